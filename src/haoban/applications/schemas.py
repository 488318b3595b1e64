"""Request and response shapes of the applications API (Pydantic v2)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class ApplicantIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=100)
    phone: str = Field(min_length=5, max_length=32)
    id_number: str | None = Field(default=None, max_length=18)


class ConsentIn(BaseModel):
    """帮代办 consent: ``otp`` with the code the person received, or ``signature`` with an image sent as
    the file part ``consent_signature``."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    method: str = Field(pattern=r"^(otp|signature)$")
    code: str | None = Field(default=None, max_length=12)


class ApplicationCreate(BaseModel):
    """One submission: the bundle, the shared form, who applies. Materials travel as multipart files
    (field name = material key) or, when the city already holds them, as ``reuse`` digests."""

    model_config = ConfigDict(extra="forbid")

    bundle: str = Field(min_length=1, max_length=64)
    form: dict[str, Any]
    applicant: ApplicantIn
    reuse: dict[str, str] = Field(default_factory=dict, description="material key → sha256 held before")
    green_channel: str | None = Field(default=None, description="elderly, disabled, pregnant, veteran, …")
    consent: ConsentIn | None = Field(default=None, description="required when applying on someone's behalf")
    note: str | None = Field(default=None, max_length=1000, description="帮代办: the helper's note")


class ConsentCodeIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    phone: str = Field(min_length=5, max_length=32)


class ConsentCodeOut(BaseModel):
    phone: str
    expires_at: datetime


class AccompanyIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    note: str = Field(min_length=1, max_length=1000)


class HelperCount(BaseModel):
    helper: str
    role: str
    proxy: int
    accompany: int


class GroupCount(BaseModel):
    group: str
    label: str
    label_en: str
    applications: int


class AssistanceKpis(BaseModel):
    helpers: list[HelperCount]
    groups: list[GroupCount]
    assisted_applications: int
    green_channel_applications: int


class TaskActionIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    result: dict[str, Any] | None = Field(default=None, description="approve: the item's result")
    reason: str | None = Field(default=None, max_length=2000, description="reject / request_correction")
    fields: list[str] | None = Field(
        default=None, max_length=50, description="request_correction: form fields"
    )
    materials: list[str] | None = Field(default=None, max_length=50, description="request_correction")
    material: str | None = Field(default=None, max_length=64, description="accept_tolerated: the material")
    promised_by: date | None = Field(default=None, description="accept_tolerated: the day it is promised")
    note: str | None = Field(default=None, max_length=2000, description="supervise")


class BulkTaskIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    application: str = Field(min_length=1, max_length=24, description="the application's code")
    task_id: str = Field(min_length=1, max_length=64)
    result: dict[str, Any] | None = Field(default=None, description="approve: laid over the template")


class BulkActionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tasks: list[BulkTaskIn] = Field(min_length=1, max_length=200)
    result: dict[str, Any] | None = Field(
        default=None,
        description="approve: one result for every task; '{code}' and '{task}' in its strings are replaced",
    )


class BulkDone(BaseModel):
    application: str
    task_id: str
    application_status: str


class BulkActionOut(BaseModel):
    action: str
    count: int
    done: list[BulkDone]


class ResubmitIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    phone_last4: str | None = Field(default=None, pattern=r"^\d{4}$")
    form_changes: dict[str, Any] = Field(default_factory=dict, description="dotted field path → new value")


class WithdrawIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    phone_last4: str | None = Field(default=None, pattern=r"^\d{4}$")
    reason: str = Field(min_length=1, max_length=1000)


class BundleTaskOut(BaseModel):
    task_id: str
    name: str
    name_en: str
    item: str
    department: str
    promise: str
    requires: list[str]
    materials: list[str]


class BundleMaterialOut(BaseModel):
    key: str
    name: str
    name_en: str
    required: bool


class BundleOut(BaseModel):
    code: str
    version: int
    digest: str
    name: str
    name_en: str
    description: str
    description_en: str
    promise: str
    departments: list[str]
    tasks: int
    uploaded_at: datetime
    uploaded_by: str


class BundleDetail(BundleOut):
    form_schema: dict[str, Any]
    materials: list[BundleMaterialOut]
    task_list: list[BundleTaskOut]
    versions: list[int]
    nodes: dict[str, str]
    flows: list[tuple[str, str, str]]


class BundleUploaded(BundleOut):
    created: bool


class TaskOut(BaseModel):
    task_id: str
    name: str
    name_en: str
    item: str
    department: str
    department_name: str
    status: str
    status_label: str
    green_channel: bool
    ready_at: datetime
    due_at: datetime
    deadline_state: str | None
    alert: str | None = None  # the last alert the sweep raised: warning / overdue
    accepted_at: datetime | None
    finished_at: datetime | None
    handled_by: str | None
    result: dict[str, Any] | None
    reason: str | None
    tolerated_material: str | None
    tolerated_due_at: datetime | None
    supervision_level: int
    allowed_actions: list[str]


class DeliveryOut(BaseModel):
    id: int
    method: str
    status: str
    recipient: str | None
    address: str | None
    tracking_no: str | None
    licence_codes: list[str]
    items: list[dict[str, Any]]
    created_at: datetime
    delivered_at: datetime | None


class MaterialOut(BaseModel):
    id: int
    key: str
    filename: str
    content_type: str
    size: int
    sha256: str
    reused: bool
    uploaded_at: datetime


class ApplicationSummary(BaseModel):
    code: str
    bundle: str
    bundle_version: int
    bundle_name: str
    status: str
    status_label: str
    channel: str
    applicant_name: str
    applicant_phone: str
    green_channel: str | None
    submitted_at: datetime
    due_at: datetime
    ended_at: datetime | None
    supervision_level: int


class ApplicationDetail(ApplicationSummary):
    applicant_id_number: str | None = None
    personal_data: str = Field(
        "masked", description="masked, or shown when asked for with reveal=true (the view is recorded)"
    )
    submitted_by: str
    corrections: int
    visits: int
    form: dict[str, Any]
    tasks: list[TaskOut]
    deliveries: list[DeliveryOut]
    materials: list[MaterialOut]
    pending_correction: dict[str, Any]


class ApplicationPage(BaseModel):
    items: list[ApplicationSummary]
    total: int
    page: int
    page_size: int


class InboxTask(TaskOut):
    application: str
    bundle_name: str
    applicant_name: str


class InboxPage(BaseModel):
    items: list[InboxTask]
    total: int
    page: int = 1
    page_size: int = 50


class TimelineEntry(BaseModel):
    at: datetime
    action: str
    text: str
    text_en: str
    task: str | None = None


class TrackTask(BaseModel):
    name: str
    name_en: str
    department_name: str
    status: str
    status_label: str
    due_at: datetime
    finished_at: datetime | None


class ApplicationTrack(BaseModel):
    """What the applicant sees with the code and phone digits: plain language, no staff names."""

    code: str
    bundle_name: str
    bundle_name_en: str
    status: str
    status_label: str
    status_label_en: str
    submitted_at: datetime
    due_at: datetime
    ended_at: datetime | None
    tasks: list[TrackTask]
    timeline: list[TimelineEntry]
    pending_correction: dict[str, Any]
    deliveries: list[DeliveryOut]


class AppEventOut(BaseModel):
    seq: int
    action: str
    task: str | None
    actor: str
    role: str
    at: datetime
    from_status: str | None
    to_status: str
    payload: dict[str, Any]
    prev_hash: str
    hash: str


# 请工作人员帮我办 (help_requests.py)
class HelpRequestIn(BaseModel):
    name: str = Field(max_length=50)
    phone: str = Field(max_length=32)
    need: str = Field(max_length=1000)
    preferred_time: str = "anytime"
    lang: str = "zh"


class HelpStepOut(BaseModel):
    action: str
    text: str | None
    at: datetime


class HelpRequestCitizenOut(BaseModel):
    code: str
    status: str
    status_text: str | None
    need: str
    preferred_time: str | None
    created_at: datetime
    outcome: str | None
    outcome_text: str | None
    steps: list[HelpStepOut]


class HelpRequestStaffOut(BaseModel):
    code: str
    status: str
    status_text: str | None
    name: str
    phone: str
    need: str
    preferred_time: str
    preferred_time_text: str | None
    created_at: datetime
    claimed_by: str | None
    claimed_at: datetime | None
    mine: bool
    outcome: str | None
    outcome_text: str | None
    closed_at: datetime | None
    allowed_actions: list[str]


class HelpActionIn(BaseModel):
    note: str | None = None
    outcome: str | None = None
