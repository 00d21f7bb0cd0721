"""Funding writes. Every write with a rule, a lock or a side effect lives in one
of these modules and is re-exported here; refusals raise `FundingError`, whose
message is safe to show. Mail goes through the funding outbox after commit.
"""

from .applications import (
    decide_application,
    save_application,
    start_application_review,
    submit_application,
)
from .common import (
    FundingError,
    max_file_bytes,
    send_mail_record,
    send_pending_mail,
    sniff_file,
)
from .requests import (
    add_supporting_document,
    allowance_problem,
    approve_funding_request,
    ask_for_more_information,
    change_manager,
    cost_problem,
    decide_panel,
    decline_funding_request,
    eligibility_problem,
    manager_email_problem,
    missing_for_submission,
    record_approver_support,
    record_invoice,
    record_manager_support,
    record_payment,
    record_progress,
    resend_to_manager,
    save_funding_request,
    start_date_problem,
    submit_funding_request,
    support_link_problem,
)

__all__ = [
    "FundingError",
    "add_supporting_document",
    "allowance_problem",
    "approve_funding_request",
    "ask_for_more_information",
    "change_manager",
    "cost_problem",
    "decide_application",
    "decide_panel",
    "decline_funding_request",
    "eligibility_problem",
    "manager_email_problem",
    "max_file_bytes",
    "missing_for_submission",
    "record_approver_support",
    "record_invoice",
    "record_manager_support",
    "record_payment",
    "record_progress",
    "resend_to_manager",
    "save_application",
    "save_funding_request",
    "send_mail_record",
    "send_pending_mail",
    "sniff_file",
    "start_application_review",
    "start_date_problem",
    "submit_application",
    "submit_funding_request",
    "support_link_problem",
]
