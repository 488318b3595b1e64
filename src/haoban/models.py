"""Imports every domain's tables so that ``Base.metadata`` is complete (migrations, tests)."""

from haoban.analytics.models import dashboard_index
from haoban.applications.models import (
    Application,
    ApplicationCodeCounter,
    ApplicationDelivery,
    ApplicationEvent,
    ApplicationMaterial,
    ApplicationTask,
    BundleDefinitionRow,
)
from haoban.auth.models import User
from haoban.benefits.models import (
    BenefitImport,
    Birth,
    Company,
    EmploymentRecord,
    Grant,
    GrantEvent,
    Insurance,
    MatchRun,
    Payment,
    Policy,
    Resident,
    TaxRecord,
)
from haoban.directory.models import Category, Department, District
from haoban.dispatch.models import DispatchCorrection, DispatchRule, DispatchRuleRevision
from haoban.feedback.models import Rating, Rectification, ReplyScore
from haoban.hotspots.models import OrderVote
from haoban.jobs.models import JobFailure
from haoban.knowledge.models import KnowledgeArticle
from haoban.notifications.models import DeliveredMessage, OutboxMessage
from haoban.orders.models import CodeCounter, Order, OrderCoHandler, OrderEvent
from haoban.ratelimit import RateCounter
from haoban.sla.models import CalendarSchedule, SlaRule
from haoban.tourism.models import Place

__all__ = [
<<<<<<< HEAD
    "BenefitImport",
    "Birth",
=======
    "Application",
    "ApplicationCodeCounter",
    "ApplicationDelivery",
    "ApplicationEvent",
    "ApplicationMaterial",
    "ApplicationTask",
    "BundleDefinitionRow",
>>>>>>> 38bb4d7 (applications slice (a): bundle definitions stored and versioned (invalid uploads refused naming the element, nothing stored), applications over the BPMN engine with one department task row per user task, task state table + gate, hash-chained case file, materials sniffed by content; API: submit (multipart), department actions (accept, 容缺受理, 补正, approve, reject), one resubmission, withdraw, applicant track by code + phone digits, department inbox)
    "CalendarSchedule",
    "Category",
    "CodeCounter",
    "Company",
    "DeliveredMessage",
    "Department",
    "DispatchCorrection",
    "DispatchRule",
    "DispatchRuleRevision",
    "District",
    "EmploymentRecord",
    "Grant",
    "GrantEvent",
    "Insurance",
    "JobFailure",
    "KnowledgeArticle",
    "MatchRun",
    "Order",
    "OrderCoHandler",
    "OrderEvent",
    "OrderVote",
    "OutboxMessage",
    "Payment",
    "Place",
    "Policy",
    "RateCounter",
    "Rating",
    "Rectification",
    "ReplyScore",
    "Resident",
    "SlaRule",
    "TaxRecord",
    "User",
    "dashboard_index",
]
