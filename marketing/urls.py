from django.urls import path

from . import views

app_name = "marketing"

urlpatterns = [
    path("unsubscribe/<str:token>/", views.unsubscribe_view, name="unsubscribe"),
    # Measuring (privacy notice 1.7): a random code, never who it is for.
    path("m/<str:code>/open.gif", views.opened_view, name="opened"),
    path("m/<str:code>/<int:n>/", views.link_view, name="link"),
]
