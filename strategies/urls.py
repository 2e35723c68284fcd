from django.urls import path

from strategies import views

app_name = "strategies"

urlpatterns = [
    path("", views.strategy_list, name="list"),
    path("new/", views.strategy_new, name="new"),
    path("preview/", views.strategy_preview, name="preview"),
    path("<int:pk>/", views.strategy_detail, name="detail"),
    path("<int:pk>/edit/", views.strategy_edit, name="edit"),
    path("<int:pk>/enable/", views.strategy_enable, name="enable"),
    path("<int:pk>/pause/", views.strategy_pause, name="pause"),
    path("<int:pk>/delete/", views.strategy_delete, name="delete"),
]
