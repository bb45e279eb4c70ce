"""Every problem `type` is documented in one place, served at /problems, with what a
client should do about it."""

from __future__ import annotations

from entrypoints.http.errors import _HTTP_SLUGS, DOMAIN_PROBLEMS, INTERNAL, VALIDATION
from entrypoints.http.problem_types import BY_SLUG, PROBLEM_TYPES
from tests.entrypoints.http.shop_api import Client


def test_every_problem_the_error_table_can_give_is_documented() -> None:
    kinds = {*DOMAIN_PROBLEMS.values(), VALIDATION, INTERNAL}
    slugs = {kind.slug: kind.status for kind in kinds} | {
        slug: status for status, slug in _HTTP_SLUGS.items()
    }

    for slug, status in slugs.items():
        assert slug in BY_SLUG, slug
        assert BY_SLUG[slug].status == status, slug
    assert all(problem.what_to_do for problem in PROBLEM_TYPES)


async def test_the_problem_types_page_lists_each_type_with_what_to_do(client: Client) -> None:
    page = await client.get("/problems")
    listed = await client.get("/problems.json")

    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert listed.status_code == 200
    assert len(listed.json()) == len(PROBLEM_TYPES)
    for problem in PROBLEM_TYPES:
        assert problem.type in page.text
        assert f'id="{problem.slug}"' in page.text
