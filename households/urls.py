from django.urls import path

from . import figure_views, views

urlpatterns = [
    # lists and exports
    path("people/", views.PersonListView.as_view(), name="person-list"),
    path("people/export.csv", views.PersonExportCsvView.as_view(), name="person-export-csv"),
    path("people/export.xlsx", views.PersonExportXlsxView.as_view(), name="person-export-xlsx"),
    path("households/", views.HouseholdListView.as_view(), name="household-list"),
    path(
        "households/export.csv",
        views.HouseholdExportCsvView.as_view(),
        name="household-export-csv",
    ),
    path(
        "households/export.xlsx",
        views.HouseholdExportXlsxView.as_view(),
        name="household-export-xlsx",
    ),
    # households
    path("households/<int:pk>/", views.HouseholdDetailView.as_view(), name="household-detail"),
    path("households/<int:pk>/edit/", views.HouseholdEditView.as_view(), name="household-edit"),
    path("households/<int:pk>/move/", views.HouseholdMoveView.as_view(), name="household-move"),
    path(
        "households/<int:pk>/members/add/",
        views.MemberAddView.as_view(),
        name="household-member-add",
    ),
    path(
        "households/<int:pk>/hardship/",
        views.HardshipRecordView.as_view(),
        name="household-hardship-record",
    ),
    path(
        "households/<int:pk>/assistance/add/",
        views.AssistanceAddView.as_view(),
        name="household-assistance-add",
    ),
    path(
        "nodes/<int:pk>/households/new/",
        views.HouseholdCreateView.as_view(),
        name="household-create",
    ),
    # persons
    path("people/<int:pk>/", views.PersonDetailView.as_view(), name="person-detail"),
    path("people/<int:pk>/edit/", views.PersonEditView.as_view(), name="person-edit"),
    path(
        "people/<int:pk>/remove-from-household/",
        views.PersonRemoveView.as_view(),
        name="person-remove-from-household",
    ),
    path("nodes/<int:pk>/people/new/", views.PersonCreateView.as_view(), name="person-create"),
    # figures and the hardship roster
    path("nodes/<int:pk>/figures/", figure_views.NodeFiguresView.as_view(), name="node-figures"),
    path(
        "nodes/<int:pk>/figures/export.xlsx",
        figure_views.NodeFiguresExportView.as_view(),
        name="node-figures-export",
    ),
    path("nodes/<int:pk>/hardship/", figure_views.NodeHardshipView.as_view(), name="node-hardship"),
]
