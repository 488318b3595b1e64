"""The spec's JSON shapes (GeoReport v2), for the OpenAPI document."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class EndpointOut(BaseModel):
    specification: str
    url: str
    changeset: str
    type: str
    formats: list[str]


class DiscoveryOut(BaseModel):
    changeset: str
    contact: str
    key_service: str
    endpoints: list[EndpointOut]


class ServiceOut(BaseModel):
    service_code: str
    service_name: str
    description: str
    metadata: bool
    type: str
    keywords: str
    group: str


class AttributeValueOut(BaseModel):
    key: str
    name: str


class AttributeOut(BaseModel):
    variable: bool
    code: str
    datatype: str  # string, number, datetime, text, singlevaluelist, multivaluelist
    required: bool
    datatype_description: str
    order: int
    description: str
    values: list[AttributeValueOut]


class ServiceDefinitionOut(BaseModel):
    service_code: str
    attributes: list[AttributeOut]


class ServiceRequestOut(BaseModel):
    service_request_id: str
    status: str  # open / closed
    status_notes: str | None
    service_name: str | None
    service_code: str | None
    agency_responsible: str | None
    service_notice: str | None
    requested_datetime: datetime
    updated_datetime: datetime
    expected_datetime: datetime | None
    address: str | None
    zipcode: str | None


class CreatedRequestOut(BaseModel):
    service_request_id: str
    token: str
    service_notice: str
    account_id: str | None


class RequestTokenOut(BaseModel):
    service_request_id: str
    token: str


class RequestUpdateOut(BaseModel):
    update_id: str
    service_request_id: str
    status: str  # open, in_progress, closed, duplicate
    updated_datetime: datetime
    description: str
    media_url: str | None


class Open311ErrorOut(BaseModel):
    code: int
    description: str


# --- client apps and their keys (the admin API) -----------------------------------------------------


class ClientIn(BaseModel):
    name: str = Field(
        min_length=1, max_length=100, description="the client app, e.g. 衡阳城管通 or FixMyStreet"
    )
    contact: str | None = Field(default=None, max_length=200, description="who runs it (name, e-mail, phone)")
    rate_per_minute: int = Field(default=60, ge=1, le=10_000, description="calls a minute this key may make")


class ClientOut(BaseModel):
    id: int
    name: str
    contact: str | None
    key_prefix: str = Field(description="the key's first characters, to tell keys apart")
    rate_per_minute: int
    created_at: datetime
    created_by: str
    revoked_at: datetime | None
    revoked_by: str | None
    active: bool


class IssuedKeyOut(BaseModel):
    client: ClientOut
    api_key: str = Field(description="shown this once: only its hash is stored")
