from django.urls import path

from . import views

urlpatterns = [
    path("", views.home),
    path("courses/<str:course_id>/enroll", views.enroll),
]
