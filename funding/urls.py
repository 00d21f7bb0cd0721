from django.urls import path

from . import application_views, staff_views, views

app_name = "funding"

urlpatterns = [
    path("funding/", views.funding_list_view, name="list"),
    path("funding/new/", views.funding_request_new_view, name="new"),
    path("funding/<int:pk>/", views.funding_request_detail_view, name="detail"),
    path("funding/<int:pk>/edit/", views.funding_request_edit_view, name="edit"),
    path("funding/<int:pk>/submit/", views.funding_request_submit_view, name="submit"),
    # The task list's sections (the task list itself is funding:detail)
    path(
        "funding/<int:pk>/course/", views.funding_task_course_view, name="task_course"
    ),
    path(
        "funding/<int:pk>/reason/", views.funding_task_reason_view, name="task_reason"
    ),
    path("funding/<int:pk>/documents/", views.funding_documents_view, name="documents"),
    path("funding/<int:pk>/check/", views.funding_check_view, name="check"),
    path("funding/<int:pk>/withdraw/", views.funding_withdraw_view, name="withdraw"),
    path("funding/<int:pk>/delete/", views.funding_delete_view, name="delete"),
    path(
        "funding/<int:pk>/documents/new/",
        views.funding_document_add_view,
        name="document_add",
    ),
    path("funding/<int:pk>/manager/", views.funding_manager_view, name="manager"),
    path(
        "funding/<int:pk>/manager/resend/",
        views.funding_manager_resend_view,
        name="manager_resend",
    ),
    path("funding/<int:pk>/progress/", views.funding_progress_view, name="progress"),
    path(
        "funding/documents/<int:pk>/",
        views.funding_document_download_view,
        name="document",
    ),
    path(
        "funding/invoices/<int:pk>/",
        views.funding_invoice_download_view,
        name="invoice",
    ),
    path(
        "funding/support/<str:token>/",
        views.manager_support_view,
        name="support",
    ),
    # Applications of every type staff define in admin.
    path("applications/", application_views.application_list_view, name="applications"),
    path(
        "applications/<slug:type_slug>/new/",
        application_views.application_new_view,
        name="application_new",
    ),
    path(
        "applications/<int:pk>/",
        application_views.application_detail_view,
        name="application_detail",
    ),
    path(
        "applications/<int:pk>/edit/",
        application_views.application_edit_view,
        name="application_edit",
    ),
    path(
        "applications/<int:pk>/submit/",
        application_views.application_submit_view,
        name="application_submit",
    ),
    # The apprenticeship addresses before application types: links in mail
    # sent, bookmarks, and the forms the previous release rendered.
    path(
        "funding/apprenticeships/new/",
        application_views.apprenticeship_new_view,
        name="apprenticeship_new",
    ),
    path(
        "funding/apprenticeships/<int:pk>/",
        application_views.apprenticeship_detail_view,
        name="apprenticeship_detail",
    ),
    path(
        "funding/apprenticeships/<int:pk>/edit/",
        application_views.application_edit_view,
        name="apprenticeship_edit",
    ),
    # Funding officers (under /staff/ so two-factor authentication applies)
    path("staff/funding/", staff_views.queue_view, name="officer_queue"),
    path("staff/funding/<int:pk>/", staff_views.review_view, name="officer_review"),
    path(
        "staff/funding/<int:pk>/invoices/new/",
        staff_views.invoice_add_view,
        name="officer_invoice_add",
    ),
    path(
        "staff/funding/<int:pk>/payments/new/",
        staff_views.payment_add_view,
        name="officer_payment_add",
    ),
    path(
        "staff/funding/rounds/<int:round_id>/panel/",
        staff_views.panel_view,
        name="officer_panel",
    ),
    path(
        "staff/funding/applications/",
        staff_views.application_queue_view,
        name="officer_applications",
    ),
    path(
        "staff/funding/applications/<int:pk>/",
        staff_views.application_review_view,
        name="officer_application",
    ),
    path(
        "staff/funding/documents/<int:pk>/",
        views.funding_document_download_view,
        name="officer_document",
    ),
    path(
        "staff/funding/invoices/<int:pk>/",
        views.funding_invoice_download_view,
        name="officer_invoice",
    ),
]
