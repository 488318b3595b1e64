"""Request and response shapes of the directory API (Pydantic v2)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class DepartmentIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    code: str = Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_-]+$")
    name: str = Field(min_length=1, max_length=100)
    name_en: str | None = Field(default=None, max_length=150)
    hotline: str | None = Field(default=None, max_length=20)
    kind: str = Field(default="department", pattern="^(department|district|utility)$")
    district_code: str | None = None
    active: bool = True


class DepartmentOut(BaseModel):
    code: str
    name: str
    name_en: str | None
    hotline: str | None
    kind: str
    active: bool


class DistrictIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    code: str = Field(min_length=1, max_length=20, pattern=r"^[A-Za-z0-9_-]+$")
    name: str = Field(min_length=1, max_length=50)
    name_en: str | None = Field(default=None, max_length=100)
    kind: str = Field(default="district", pattern="^(district|county|city)$")


class DistrictOut(BaseModel):
    code: str
    name: str
    name_en: str | None
    kind: str


class CategoryIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    name: str = Field(min_length=1, max_length=100, pattern=r"^[^/]+$")
    parent_code: str | None = None


class CategoryOut(BaseModel):
    code: str
    name: str
    level: int
    path: str


class UserIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=4, max_length=200)
    role: str
    display_name: str | None = Field(default=None, max_length=100)
    department_code: str | None = None


class UserPatch(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    active: bool | None = None
    password: str | None = Field(default=None, min_length=4, max_length=200)
    display_name: str | None = Field(default=None, max_length=100)
    role: str | None = Field(default=None, max_length=20, description="a new role revokes the tokens")


class UserOut(BaseModel):
    id: int
    username: str
    display_name: str
    role: str
    department: str | None
    active: bool
