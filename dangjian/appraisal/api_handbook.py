"""JSON API of the handbook (mounted by appraisal/api.py): the 《党员量化评价手册》 PDFs, with the pages' access —
a member's own handbook, or those of the members and branches in the user's "appraisal.view" scope."""

from typing import Annotated

from ninja import Path, Query, Router

from dangjian.appraisal import handbook
from dangjian.appraisal.views_handbook import pdf_response
from dangjian.core.api_helpers import WRITE_ERRORS, api_errors

router = Router(tags=["党员评价"])

MemberId = Annotated[int, Path(title="党员编号")]
OrgId = Annotated[int, Path(title="党支部编号")]
Year = Annotated[int | None, Query(title="年度", description="2000–2100，默认今年")]
PDF = {"responses": {200: {"description": "PDF 文件（inline，浏览器可直接预览）", "content": {
    "application/pdf": {"schema": {"type": "string", "format": "binary"}}}}}}


@router.get("/handbooks/{member_id}", response=WRITE_ERRORS, url_name="member_handbook",
            summary="党员量化评价手册（单人）", openapi_extra=PDF,
            description="封面、入党誓词、党员承诺、十二个月的量化评价表、学习记录和签字栏；A4，中文字体已嵌入。"
                        "党员本人、所在支部书记、党建管理员可以获取。")
@api_errors(fields={"year": "year"})
def member_handbook(request, member_id: MemberId, year: Year = None):
    member = handbook.get_member(request.auth, member_id)
    y = handbook.parse_year(year)
    content = handbook.member_handbook(request.auth, member, y)
    return pdf_response(content, handbook.filename_for(member.name, y), download=False)


@router.get("/handbooks/branch/{org_id}", response=WRITE_ERRORS, url_name="branch_handbooks",
            summary="党员量化评价手册（全支部）", openapi_extra=PDF,
            description="一个文件，包含支部全部在册党员的手册，每名党员从新的一页开始，页码按人编排。")
@api_errors(fields={"year": "year"})
def branch_handbooks(request, org_id: OrgId, year: Year = None):
    org = handbook.get_branch(request.auth, org_id)
    y = handbook.parse_year(year)
    content = handbook.branch_handbooks(request.auth, org, y)
    return pdf_response(content, handbook.filename_for(org.name, y), download=False)


__all__ = ["router"]
