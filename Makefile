# Every target is a plain command. `make run` and `make test` do all the set-up on a fresh machine.
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
PORT    ?= 8000
PG_URL  ?= postgres://postgres@127.0.0.1:5432/test
# A scratch database for benchmarks (created when missing; its tables are migrated into it and left there).
BENCH_PG_URL ?= postgres://postgres@127.0.0.1:5432/dangjian_bench
export DJANGO_SETTINGS_MODULE := dangjian.settings
# Development and test commands may use the built-in development key; production sets SECRET_KEY.
export DANGJIAN_ALLOW_DEV_KEY := 1

.PHONY: fonts run setup test test-pg test-browser lint audit check-deploy demo bench bench-full clean

$(BIN)/.installed: pyproject.toml
	@$(PY) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "需要 Python 3.11 或更高版本")'
	@test -d $(VENV) || $(PY) -m venv $(VENV) || { echo "无法创建虚拟环境：请安装 python3-venv（Debian：apt-get install python3-venv）"; exit 1; }
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e ".[dev]"
	@touch $@

node_modules/.installed: package.json package-lock.json
	@command -v npm >/dev/null || { echo "需要 Node.js 和 npm 来安装前端资源（Debian：apt-get install nodejs npm）"; exit 1; }
	npm ci --no-audit --no-fund --ignore-scripts
	@touch $@

locale/en/LC_MESSAGES/django.mo: locale/en/LC_MESSAGES/django.po
	@command -v msgfmt >/dev/null || { echo "需要 gettext 编译英文界面（Debian：apt-get install gettext）"; exit 1; }
	$(BIN)/python manage.py compilemessages -v0 --ignore=.venv --ignore=node_modules

# PDFs (handbooks, posters) embed a Chinese TrueType font found on the system: Debian's fonts-wqy-zenhei, installed
# here when missing and we may (root with apt), else the exact command to run; PDF_FONT_PATH names another font.
fonts:
	@test -f /usr/share/fonts/truetype/wqy/wqy-zenhei.ttc || test -n "$$PDF_FONT_PATH" || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "安装 PDF 所需的中文字体 fonts-wqy-zenhei"; \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-wqy-zenhei >/dev/null 2>&1 || \
	    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-wqy-zenhei >/dev/null; }; \
	  else echo "生成 PDF 需要中文字体：请运行 sudo apt-get install fonts-wqy-zenhei，或用 PDF_FONT_PATH 指定 TrueType 字体"; exit 1; fi; }

setup: $(BIN)/.installed node_modules/.installed locale/en/LC_MESSAGES/django.mo fonts

run: setup
	@mkdir -p var
	DEBUG=1 $(BIN)/python manage.py migrate --noinput -v0
	DEBUG=1 $(BIN)/python manage.py demo
	@echo "平台地址：http://127.0.0.1:$(PORT)/   （Ctrl+C 停止）"
	DEBUG=1 $(BIN)/python manage.py runserver 127.0.0.1:$(PORT)

test: setup
	@mkdir -p var
	$(BIN)/python manage.py check
	$(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/pytest -m "not browser"

test-pg: setup
	DATABASE_URL=$(PG_URL) $(BIN)/pytest -m "not browser"

test-browser: setup
	$(BIN)/pytest -m browser tests/browser

lint: setup
	$(BIN)/ruff check .

# Security scans: bandit (no medium or high finding; B608 reviewed, see pyproject.toml) and pip-audit (says
# NOT AUDITED, without failing, where PyPI's vulnerability data cannot be reached).
audit: setup
	$(BIN)/bandit -c pyproject.toml -r dangjian -ll -q
	$(BIN)/python .ci/pip_audit.py

# `manage.py check --deploy` with production-like settings (docs/security.md lists what production sets).
check-deploy: setup
	env -u DANGJIAN_ALLOW_DEV_KEY DEBUG=0 ALLOWED_HOSTS=dangjian.example.cn \
	  SECRET_KEY="$$($(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(50))')" \
	  SECURE_HSTS_INCLUDE_SUBDOMAINS=1 SECURE_HSTS_PRELOAD=1 \
	  $(BIN)/python manage.py check --deploy --fail-level WARNING

# QUALITY.md P1: the month close against the single-statement floor measured in the same run, on SQLite and on
# PostgreSQL (BENCH_PG_URL). `make bench`: 1/100 of the enterprise (500 organizations), a minute or two;
# `make bench-full`: also the enterprise scale (50,000 organizations × 40 items = 2 M item rows a month), about
# 15 minutes on 2 cores. Figures go to docs/benchmarks.md.
bench: setup
	$(BIN)/python bench/bench_close.py --orgs 500 --months 3
	$(BIN)/python bench/bench_close.py --orgs 500 --months 3 --database $(BENCH_PG_URL)

bench-full: bench
	$(BIN)/python bench/bench_close.py --orgs 50000 --months 1
	$(BIN)/python bench/bench_close.py --orgs 50000 --months 1 --database $(BENCH_PG_URL)

demo: setup
	@mkdir -p var
	DEBUG=1 $(BIN)/python manage.py migrate --noinput -v0
	DEBUG=1 $(BIN)/python manage.py demo --reset

clean:
	rm -rf $(VENV) node_modules var staticfiles
