from django.urls import path

from connections import views

app_name = "connections"

urlpatterns = [
    path("", views.connection_list, name="list"),
    path("new/", views.connection_new, name="new"),
    path("<int:pk>/", views.connection_detail, name="detail"),
    path("<int:pk>/rename/", views.connection_rename, name="rename"),
    path("<int:pk>/replace-key/", views.connection_replace_key, name="replace_key"),
    path("<int:pk>/delete/", views.connection_delete, name="delete"),
    path("<int:pk>/test/", views.connection_test, name="test"),
    path("<int:pk>/status/", views.connection_status, name="status"),
]
