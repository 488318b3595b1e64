"""The landing page; the role pages grow here with the web issue."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

router = APIRouter(include_in_schema=False)

LANDING = """<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>好办 haoban · 12345</title>
<style>body{font-family:system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem;line-height:1.6}
code{background:#f3f3f3;padding:0 .3em}</style></head><body>
<h1>好办 haoban</h1><p>12345 政务服务便民热线 · 工单受理、派单、办理、督办、回访。<br>
The 12345 hotline platform: registration, dispatch, handling, supervision, call-backs.</p>
<ul><li><a href="/docs">API 文档 / API docs (OpenAPI)</a></li>
<li><a href="/api/v1/workflow">工单流转表 / The work-order state table</a></li>
<li><a href="/api/v1/health">运行状态 / Health</a></li></ul>
<p>演示账号 / Demo accounts (demo mode): <code>admin</code>, <code>operator</code>, <code>dispatcher</code>,
<code>supervisor</code>, <code>auditor</code> and one handler per department (e.g.
<code>h_scjg</code>); password <code>demo</code>.</p></body></html>"""


@router.get("/", response_class=HTMLResponse)
def landing() -> str:
    return LANDING
