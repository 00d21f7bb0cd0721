from django.urls import path

from . import views

app_name = "accounts"

urlpatterns = [
    path("", views.profile_detail_view, name="profile"),
    path("edit/", views.profile_edit_view, name="edit"),
    path("complete/", views.profile_complete_view, name="complete"),
    path("equality/", views.profile_equality_view, name="equality"),
    path("close/", views.account_close_view, name="close"),
    path("closed/", views.account_closed_view, name="closed"),
]
