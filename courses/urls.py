from django.urls import path

from . import views

app_name = "courses"

urlpatterns = [
    path("", views.home_view, name="home"),
    path("courses/", views.course_list_view, name="list"),
    path("courses/<slug:slug>/", views.course_detail_view, name="detail"),
]
