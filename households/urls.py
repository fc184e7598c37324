from django.urls import path

from . import attachment_views, figure_views, list_views, lookup_views, person_views, views

urlpatterns = [
    # lists and exports
    path("people/", list_views.PersonListView.as_view(), name="person-list"),
    path("people/export.csv", list_views.PersonExportCsvView.as_view(), name="person-export-csv"),
    path(
        "people/export.xlsx",
        list_views.PersonExportXlsxView.as_view(),
        name="person-export-xlsx",
    ),
    path("households/", list_views.HouseholdListView.as_view(), name="household-list"),
    path(
        "households/export.csv",
        list_views.HouseholdExportCsvView.as_view(),
        name="household-export-csv",
    ),
    path(
        "households/export.xlsx",
        list_views.HouseholdExportXlsxView.as_view(),
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
        "households/<int:pk>/attachments/",
        attachment_views.HouseholdAttachmentUploadView.as_view(),
        name="household-attachment-upload",
    ),
    path(
        "attachments/household/<int:pk>/",
        attachment_views.HouseholdAttachmentView.as_view(),
        name="household-attachment",
    ),
    path(
        "attachments/household/<int:pk>/thumb/",
        attachment_views.HouseholdAttachmentThumbView.as_view(),
        name="household-attachment-thumb",
    ),
    path(
        "attachments/household/<int:pk>/delete/",
        attachment_views.HouseholdAttachmentDeleteView.as_view(),
        name="household-attachment-delete",
    ),
    path(
        "nodes/<int:pk>/households/new/",
        views.HouseholdCreateView.as_view(),
        name="household-create",
    ),
    # persons
    path("people/<int:pk>/", person_views.PersonDetailView.as_view(), name="person-detail"),
    # masking (issue 12): the POST-only lookup by a full number and the read log
    path("people/lookup/", lookup_views.PersonLookupView.as_view(), name="person-lookup"),
    path("identity-reads/", lookup_views.IdentityReadListView.as_view(), name="identity-read-list"),
    path("people/<int:pk>/edit/", person_views.PersonEditView.as_view(), name="person-edit"),
    path(
        "people/<int:pk>/remove-from-household/",
        views.PersonRemoveView.as_view(),
        name="person-remove-from-household",
    ),
    path(
        "nodes/<int:pk>/people/new/",
        person_views.PersonCreateView.as_view(),
        name="person-create",
    ),
    # figures and the hardship roster
    path("nodes/<int:pk>/figures/", figure_views.NodeFiguresView.as_view(), name="node-figures"),
    path(
        "nodes/<int:pk>/figures/export.xlsx",
        figure_views.NodeFiguresExportView.as_view(),
        name="node-figures-export",
    ),
    path("nodes/<int:pk>/hardship/", figure_views.NodeHardshipView.as_view(), name="node-hardship"),
]
