"""The spec's JSON shapes (GeoReport v2), for the OpenAPI document."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel


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


class AttributeOut(BaseModel):
    code: str
    datatype: str
    required: bool
    description: str


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


class Open311ErrorOut(BaseModel):
    code: int
    description: str
