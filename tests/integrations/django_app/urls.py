from django.urls import path

from . import views

urlpatterns = [
    path("context/", views.context_view),
    path("async-context/", views.async_context_view),
    path("boom/", views.boom),
    path("async-boom/", views.async_boom),
    path("exits-context/", views.exits_context),
    path("barrier/", views.barrier),
    path("leaky/", views.leaky),
    path("async-leaky/", views.async_leaky),
    path("streaming-leaky/", views.streaming_leaky),
]
