"""Every reason a bundle definition is refused, in Chinese and English (one word, one place).

Keys are stable; the web and the API show ``zh``/``en`` and may match on the key. Parameters are
filled with ``str.format``.
"""

from __future__ import annotations

from typing import Any

__all__ = ["MESSAGES", "say"]

MESSAGES: dict[str, tuple[str, str]] = {
    # files
    "file_missing": ("缺少此文件", "this file is missing"),
    "file_unknown": ("不认识的文件（只接受 {files}）", "unknown file (only {files})"),
    "not_utf8": ("文件不是 UTF-8 编码", "the file is not UTF-8"),
    "bad_yaml": ("YAML 格式错误：{error}", "invalid YAML: {error}"),
    "not_mapping": ("文件内容必须是一个映射（键: 值）", "the file must hold a mapping (key: value)"),
    "bad_json": ("不是有效的 JSON：{error}", "not valid JSON: {error}"),
    # bundle.yaml
    "bad_code": ("code 必须是字母、数字、- 或 _", "code must be letters, digits, - or _"),
    "required": ("必须填写", "is required"),
    "bad_promise": ("承诺时限无效：{error}", "invalid promise: {error}"),
    "bad_material": ("材料需要 key 和 name", "a material needs key and name"),
    "duplicate_material": ("材料 {key} 重复", "material {key} is listed twice"),
    # process.bpmn: the file
    "bad_xml": ("XML 格式错误：{error}", "malformed XML: {error}"),
    "not_definitions": ("根元素必须是 bpmn:definitions", "the root must be bpmn:definitions"),
    "not_bpmn": ("不符合 BPMN 2.0 规范：{error}", "not valid BPMN 2.0: {error}"),
    "process_count": (
        "需要恰好一个可执行流程，找到 {count} 个",
        "needs exactly one executable process, found {count}",
    ),
    "unsupported": ("一件事流程不支持{what_zh}", "{what_en} are not supported in a bundle"),
    "unsupported_tag": ("一件事流程不支持 {tag}", "{tag} is not supported in a bundle"),
    "flow_dangling": (
        "顺序流连接了不存在或不支持的元素 {node}",
        "the sequence flow connects {node}, which is missing or not supported",
    ),
    # events
    "start_typed": (
        "开始事件不能带触发条件（提交申请即开始）",
        "the start event must be a none start event (submission starts the bundle)",
    ),
    "throw_kind": (
        "只支持无类型、督办（升级）或统一出件（消息）事件",
        "only none, escalation (督办) or message (delivery) events are supported",
    ),
    "escalation_code": (
        "升级事件必须引用 escalationCode 为 {code} 的 bpmn:escalation",
        "an escalation event must refer to a bpmn:escalation with escalationCode {code}",
    ),
    "message_name": (
        "消息事件必须引用名为 {name} 的 bpmn:message（统一出件）",
        "a message event must refer to a bpmn:message named {name} (delivery)",
    ),
    "timer_only": ("这里只支持定时器事件", "only timer events are supported here"),
    "timer_interrupting": (
        '边界定时器必须是非中断的（cancelActivity="false"）：超时只督办，不撤销部门任务',
        'a boundary timer must be non-interrupting (cancelActivity="false"): a late task is supervised '
        "(督办), not cancelled",
    ),
    "timer_not_date": (
        "定时器须用 timeDate，值如 promise() 或 working_days(3)",
        "a timer must use timeDate, e.g. promise() or working_days(3)",
    ),
    "timer_value": (
        "定时器的值须为 promise()、working_days(n)、working_hours(n)、calendar_days(n) 或 calendar_hours(n)"
        "（promise() 只能用于附着在任务上的边界定时器）",
        "a timer's value must be promise(), working_days(n), working_hours(n), calendar_days(n) or "
        "calendar_hours(n) (promise() only on a boundary timer of a task)",
    ),
    "boundary_not_on_task": (
        "边界定时器必须附着在用户任务上",
        "a boundary timer must be attached to a user task",
    ),
    "boundary_flows": (
        "边界定时器需要恰好一条出向顺序流",
        "a boundary timer needs exactly one outgoing flow",
    ),
    "timer_branch_joins": (
        "定时器分支不能汇入主流程",
        "a timer branch must not flow back into the main process",
    ),
    "timer_branch_content": (
        "定时器分支上只能有督办（升级）事件和结束事件",
        "a timer branch may only hold escalation (督办) and end events",
    ),
    # structure
    "start_count": ("需要恰好一个开始事件，找到 {count} 个", "needs exactly one start event, found {count}"),
    "unreachable_end": (
        "从开始事件无法到达此结束事件",
        "this end event cannot be reached from the start event",
    ),
    "unreachable": (
        "从开始事件无法到达此元素（永远不会执行）",
        "this element cannot be reached from the start event (it would never run)",
    ),
    "no_end": ("从此元素无法到达任何结束事件", "no end event can be reached from this element"),
    "flows_start": (
        "顺序流数目不对：开始事件不能有入向顺序流、只能有一条出向顺序流",
        "wrong number of sequence flows: a start event has no incoming and exactly one outgoing flow",
    ),
    "flows_end": (
        "顺序流数目不对：结束事件需要至少一条入向顺序流、不能有出向顺序流",
        "wrong number of sequence flows: an end event has at least one incoming and no outgoing flow",
    ),
    "flows_gateway": (
        "顺序流数目不对：网关要么一进多出（分支），要么多进一出（汇聚）；既汇聚又分支请画两个网关",
        "wrong number of sequence flows: a gateway has one in and several out (split) or several in and one "
        "out (join); draw two gateways to do both",
    ),
    "flows_node": (
        "顺序流数目不对：需要恰好一条入向和一条出向顺序流（分支与汇聚请用网关）",
        "wrong number of sequence flows: exactly one incoming and one outgoing flow (use gateways to split "
        "or join)",
    ),
    "loop": (
        "流程中有回路：{path}（补正由引擎统一处理，不需要画回路）",
        "the process loops: {path} (corrections are built in; draw no loops)",
    ),
    "split_never_joins": (
        "并行网关分出的分支没有在一个并行网关汇聚（各分支须先汇合再结束）",
        "the parallel gateway splits into branches that never join at a parallel gateway",
    ),
    "join_waits_forever": (
        "并行汇聚网关等待的分支不是由并行网关分出的（会永远等待）",
        "the parallel join waits for branches that no parallel split started (it would wait forever)",
    ),
    "no_default": (
        "排他网关必须指定默认流（条件都不满足时走默认流，申请不会卡住）",
        "an exclusive gateway needs a default flow (so no application gets stuck when no condition holds)",
    ),
    "no_condition": (
        "排他网关的出向顺序流（默认流除外）必须有条件",
        "every flow out of an exclusive gateway except the default needs a condition",
    ),
    "stray_condition": (
        "只有排他网关的出向顺序流可以带条件",
        "only flows out of an exclusive gateway may carry a condition",
    ),
    "no_tasks": ("流程中没有用户任务", "the process has no user task"),
    # user tasks
    "task_no_item": (
        "用户任务必须用扩展属性 item 指明事项编码",
        "a user task must name its item (extension property item)",
    ),
    "item_unknown": ("事项 {item} 不在事项目录中", "item {item} is not in the catalogue"),
    "task_no_department": (
        "用户任务必须用扩展属性 department 指明部门",
        "a user task must name its department (extension property department)",
    ),
    "department_mismatch": (
        "事项 {item} 属于部门 {owner}，不是 {department}",
        "item {item} belongs to department {owner}, not {department}",
    ),
    "department_unknown": ("部门 {department} 不存在", "department {department} does not exist"),
    "task_region": (
        "扩展属性 region（多地联办的伙伴城市）须为 6 位行政区划代码，而不是 {region}",
        "extension property region (the partner region of 多地联办) is a 6-digit region code, not {region}",
    ),
    "task_promise": (
        '扩展属性 promise（承诺时限，如 "1 working_days"）无效：{error}',
        'extension property promise (e.g. "1 working_days") is invalid: {error}',
    ),
    "task_no_name": ("用户任务需要名称", "a user task needs a name"),
    # expressions
    "bad_condition": ("条件表达式无效：{zh}", "invalid condition: {en}"),
    "condition_form": (
        "条件读取的表单字段 {field} 不存在",
        "the condition reads form field {field}, which the form does not have",
    ),
    "condition_material": (
        "条件读取的材料 {key} 不存在",
        "the condition reads material {key}, which bundle.yaml does not list",
    ),
    "condition_task": (
        "条件读取的任务 {task} 不存在",
        "the condition reads task {task}, which does not exist",
    ),
    "condition_not_before": (
        "条件读取的任务 {task} 不一定在此之前办结",
        "the condition reads task {task}, which does not always finish before it",
    ),
    "no_result_field": (
        "任务 {task} 的 result_schema 没有字段 {key}",
        "the result_schema of task {task} has no field {key}",
    ),
    # mapping.yaml
    "mapping_tasks": ("需要 tasks:（每个用户任务一项）", "needs tasks: (one entry per user task)"),
    "mapping_no_task": ("流程中没有用户任务 {task}", "the process has no user task {task}"),
    "mapping_missing": (
        "缺少此任务的映射（部门将收不到任何申请信息）",
        "this task has no mapping (the department would receive nothing)",
    ),
    "bad_source": ("来源无效：{error}", "invalid source: {error}"),
    "holder_shape": (
        "持证人须写明 id 与 name 两项来源",
        "a holder needs exactly id and name, each a source",
    ),
    "holder_source": (
        "持证人须取自表单、本事项结果或前序事项结果，不能取自材料",
        "a holder comes from form.<field>, result.<key> or results.<task>.<key>, not from a material",
    ),
    "holder_result": ("本事项的结果中没有字段 {key}", "this task's result has no field {key}"),
    "material_holder": (
        "材料的持证人须为 form.<字段>，且材料须注明 licence_kind",
        "a material's holder must be form.<field>, on a material with a licence_kind",
    ),
    "source_form": ("表单中没有字段 {field}", "the form has no field {field}"),
    "source_material": ("bundle.yaml 中没有材料 {key}", "bundle.yaml lists no material {key}"),
    "source_result_shape": ("结果引用须为 results.<任务>.<字段>", "use results.<task>.<key>"),
    "source_not_before": (
        "任务 {task} 不一定在此之前办结，不能使用它的结果",
        "task {task} does not always finish before this point, so its result cannot be used here",
    ),
    "delivery_key": (
        "只能是 method、address、recipient、phone",
        "must be one of method, address, recipient, phone",
    ),
    "delivery_source": ("出件信息只能取自表单", "delivery details can only come from the form"),
    # SpiffWorkflow
    "engine_refused": ("流程引擎无法解析：{error}", "the workflow engine cannot parse it: {error}"),
    # engine: actions that do not fit the instance's state (409)
    "bundle_ended": ("该一件事已结束（{status}）", "the bundle has ended ({status})"),
    "unknown_task": ("没有任务 {task}", "there is no task {task}"),
    "task_finished": ("任务 {task} 已办结（{outcome}）", "task {task} is already finished ({outcome})"),
    "task_not_ready": (
        "任务 {task} 尚未就绪（前置事项未办结）",
        "task {task} is not ready (its predecessors are not done)",
    ),
    "dependency_violated": (
        "任务 {task} 的前置任务 {missing} 未办结",
        "task {task} became ready before {missing}",
    ),
    "engine_failed": ("流程引擎出错：{error}", "the workflow engine failed: {error}"),
    "expression_failed": (
        "条件表达式 {expression} 无法求值：{error}",
        "the expression {expression} could not be evaluated: {error}",
    ),
    "awaiting_correction": (
        "任务 {task} 正在等待申请人补正",
        "task {task} is waiting for the applicant's correction",
    ),
    "correction_once": (
        "该任务已要求过一次补正（一次性告知），不能再次要求；如仍不符合，请作出不予办理决定",
        "this task already had its one correction (一次性告知); reject it if it still does not qualify",
    ),
    "not_awaiting_correction": ("当前没有待补正的内容", "nothing is waiting for a correction"),
    "state_format": ("无法识别的实例数据格式", "unrecognised instance state format"),
    "state_engine_version": (
        "实例数据由另一版本的流程引擎保存（{version}），需要先迁移",
        "the state was saved by another workflow engine version ({version}); migrate it first",
    ),
    "definition_missing": (
        "找不到一件事 {code} 的第 {version} 版",
        "bundle {code} version {version} is not available",
    ),
    "definition_changed": (
        "一件事 {code} 第 {version} 版的文件与实例开始时不同（摘要不符），拒绝加载",
        "bundle {code} version {version} differs from the one this instance started on (digest mismatch)",
    ),
    # engine: input that does not validate (422); the field is named beside the message
    "material_unknown": ("本事项不需要材料 {key}", "this bundle takes no material {key}"),
    "material_bad_ref": ("{name}：材料引用无效", "{name_en}: invalid material reference"),
    "material_required": ("{name}：必须提交", "{name_en}: is required"),
    "reason_required": ("理由：此项必填", "reason: is required"),
    "flag_not_input": (
        "字段 {field} 不是本任务收到的信息，不能要求补正",
        "field {field} is not among this task's inputs",
    ),
    "flag_not_material": ("材料 {key} 不是本任务所需材料", "material {key} is not one this task needs"),
    "flag_nothing": ("请至少指出一个需要补正的字段或材料", "flag at least one field or material"),
    "not_flagged": (
        "字段 {field} 未被要求补正，不能修改",
        "field {field} was not flagged for correction and cannot change",
    ),
    "flagged_missing": (
        "字段 {field} 被要求补正，须在本次一并提交",
        "field {field} was flagged and must be in this resubmission",
    ),
    "material_not_flagged": ("材料 {key} 未被要求补正", "material {key} was not flagged for correction"),
    "material_flagged_missing": (
        "材料 {key} 被要求补正，须在本次一并提交",
        "material {key} was flagged and must be in this resubmission",
    ),
}


def say(message: str, /, **params: Any) -> tuple[str, str]:
    """(zh, en) for the ``message`` key with its parameters filled in."""
    zh, en = MESSAGES[message]
    return zh.format(**params), en.format(**params)
