from django.http import Http404


def import_home(request):
    raise Http404


def import_template(request, kind):
    raise Http404


def import_upload(request, kind):
    raise Http404
