from django.urls import include, path

from . import council_attachments, views
from .accounts import views as account_views

urlpatterns = [
    path("", include("associations.job_urls")),
    path("", views.home, name="home"),
    path("nodes/<int:pk>/", views.NodeDetailView.as_view(), name="node-detail"),
    path("nodes/<int:pk>/tree/", views.NodeTreeView.as_view(), name="node-tree"),
    path("nodes/<int:pk>/children/new/", views.NodeCreateView.as_view(), name="node-create"),
    path("nodes/<int:pk>/edit/", views.NodeEditView.as_view(), name="node-edit"),
    path("nodes/<int:pk>/move/", views.NodeMoveView.as_view(), name="node-move"),
    path("nodes/<int:pk>/history/", views.NodeHistoryView.as_view(), name="node-history"),
    path("nodes/<int:pk>/council/", views.CouncilView.as_view(), name="council"),
    path("nodes/<int:pk>/council/new/", views.CouncilCreateView.as_view(), name="council-create"),
    path("councils/<int:pk>/edit/", views.CouncilEditView.as_view(), name="council-edit"),
    path("councils/<int:pk>/seats/new/", views.SeatCreateView.as_view(), name="seat-create"),
    path("seats/<int:pk>/edit/", views.SeatEditView.as_view(), name="seat-edit"),
    path("seats/<int:pk>/delete/", views.SeatDeleteView.as_view(), name="seat-delete"),
    path(
        "councils/<int:pk>/attachments/",
        council_attachments.CouncilAttachmentUploadView.as_view(),
        name="council-attachment-upload",
    ),
    path(
        "attachments/council/<int:pk>/",
        council_attachments.CouncilAttachmentView.as_view(),
        name="council-attachment",
    ),
    path(
        "attachments/council/<int:pk>/thumb/",
        council_attachments.CouncilAttachmentThumbView.as_view(),
        name="council-attachment-thumb",
    ),
    path(
        "attachments/council/<int:pk>/delete/",
        council_attachments.CouncilAttachmentDeleteView.as_view(),
        name="council-attachment-delete",
    ),
    path("staff/", views.StaffListView.as_view(), name="staff-list"),
    path("staff/new/", views.StaffCreateView.as_view(), name="staff-create"),
    # account security (issue 12): lockout unlock, the account's API tokens, API keys
    path("staff/<int:pk>/unlock/", account_views.StaffUnlockView.as_view(), name="staff-unlock"),
    path("account/", account_views.AccountView.as_view(), name="account"),
    path(
        "account/tokens/<int:pk>/revoke/",
        account_views.AccountTokenRevokeView.as_view(),
        name="account-token-revoke",
    ),
    path("api-keys/", account_views.ApiKeyListView.as_view(), name="api-keys"),
    path(
        "api-keys/<int:pk>/revoke/",
        account_views.ApiKeyRevokeView.as_view(),
        name="api-key-revoke",
    ),
    path("platform/", views.PlatformCountyListView.as_view(), name="platform-counties"),
    path(
        "platform/counties/new/",
        views.PlatformCountyCreateView.as_view(),
        name="platform-county-create",
    ),
]
