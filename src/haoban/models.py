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
from haoban.auth.models import LoginEvent, LoginThrottle, User
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
from haoban.casework.models import (
    Case,
    CaseDecision,
    CaseDepartment,
    CaseEvent,
    CaseMeeting,
    ReformProposal,
)
from haoban.catalog.models import ItemMaterial, ServiceItem
from haoban.directory.models import Category, Department, District
from haoban.dispatch.models import DispatchCorrection, DispatchRule, DispatchRuleRevision
from haoban.federation.models import (
    Agreement,
    CrossCase,
    CrossCaseEvent,
    InboxEntry,
    Nonce,
    OutboxEntry,
    Partner,
    Refusal,
)
from haoban.feedback.models import (
    Rating,
    Rectification,
    ReplyScore,
    ServiceRating,
    ServiceRectification,
    ServiceVisit,
)
from haoban.hotspots.models import OrderVote
from haoban.jobs.models import JobFailure
from haoban.knowledge.models import KnowledgeArticle
from haoban.licences.models import Licence, LicenceUse
from haoban.notifications.models import DeliveredMessage, OutboxMessage
from haoban.open311.models import Open311Client, Open311Request
from haoban.orders.models import (
    CitizenCode,
    CodeCounter,
    Order,
    OrderAttachment,
    OrderCoHandler,
    OrderEvent,
    PersonalDataView,
)
from haoban.ratelimit import RateCounter
from haoban.security.models import DataKeyCheck
from haoban.sla.models import CalendarSchedule, SlaRule
from haoban.tourism.models import (
    Place,
    PlaceComplaint,
    Ticket,
    TicketOrder,
    TicketPayment,
    TicketPlan,
    TicketSlot,
)

__all__ = [
    "Agreement",
    "Application",
    "ApplicationCodeCounter",
    "ApplicationDelivery",
    "ApplicationEvent",
    "ApplicationMaterial",
    "ApplicationTask",
    "BenefitImport",
    "Birth",
    "BundleDefinitionRow",
    "CalendarSchedule",
    "Case",
    "CaseDecision",
    "CaseDepartment",
    "CaseEvent",
    "CaseMeeting",
    "Category",
    "CitizenCode",
    "CodeCounter",
    "Company",
    "CrossCase",
    "CrossCaseEvent",
    "DataKeyCheck",
    "DeliveredMessage",
    "Department",
    "DispatchCorrection",
    "DispatchRule",
    "DispatchRuleRevision",
    "District",
    "EmploymentRecord",
    "Grant",
    "GrantEvent",
    "InboxEntry",
    "Insurance",
    "ItemMaterial",
    "JobFailure",
    "KnowledgeArticle",
    "Licence",
    "LicenceUse",
    "LoginEvent",
    "LoginThrottle",
    "MatchRun",
    "Nonce",
    "Open311Client",
    "Open311Request",
    "Order",
    "OrderAttachment",
    "OrderCoHandler",
    "OrderEvent",
    "OrderVote",
    "OutboxEntry",
    "OutboxMessage",
    "Partner",
    "Payment",
    "PersonalDataView",
    "Place",
    "PlaceComplaint",
    "Policy",
    "RateCounter",
    "Rating",
    "Rectification",
    "ReformProposal",
    "Refusal",
    "ReplyScore",
    "Resident",
    "ServiceItem",
    "ServiceRating",
    "ServiceRectification",
    "ServiceVisit",
    "SlaRule",
    "TaxRecord",
    "Ticket",
    "TicketOrder",
    "TicketPayment",
    "TicketPlan",
    "TicketSlot",
    "User",
    "dashboard_index",
]
