from django.urls import path

from . import views

app_name = "surveys"

urlpatterns = [
    path("surveys/<str:key>/", views.answer_view, name="answer"),
]
