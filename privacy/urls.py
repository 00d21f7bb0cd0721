from django.urls import path

from . import views

app_name = "privacy"

urlpatterns = [
    path("my-data/", views.my_data_view, name="my_data"),
    path("my-data/correct/", views.correction_new_view, name="correction_new"),
    path("my-data/find/", views.access_new_view, name="access_new"),
    path("my-data/download/", views.my_data_download_view, name="download"),
    path("my-data/send/", views.my_data_transfer_view, name="transfer"),
    path("data-transfer/<str:token>/", views.transfer_collect_view, name="collect"),
    path("my-data/exports/<str:token>/", views.my_data_export_view, name="export"),
    path("staff/processing/", views.processing_record_view, name="processing_record"),
]
