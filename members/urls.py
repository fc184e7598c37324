from django.urls import include, path

from . import group_views, register_views, views

urlpatterns = [
    path("", include("members.roster_urls")),
    # members
    path("members/", views.MemberListView.as_view(), name="member-list"),
    path("members/<int:pk>/", views.MemberDetailView.as_view(), name="member-detail"),
    path("members/<int:pk>/edit/", views.MemberEditView.as_view(), name="member-edit"),
    path("members/<int:pk>/leave/", views.MemberLeaveView.as_view(), name="member-leave"),
    path("members/<int:pk>/contacts/", views.ContactAddView.as_view(), name="member-contact-add"),
    path(
        "members/<int:pk>/pairings/",
        views.PairingStartView.as_view(),
        name="member-pairing-start",
    ),
    path(
        "members/<int:pk>/commendations/",
        views.CommendationAddView.as_view(),
        name="member-commendation-add",
    ),
    path(
        "nodes/<int:pk>/members/new/",
        register_views.MemberRegisterView.as_view(),
        name="member-register",
    ),
    path(
        "nodes/<int:pk>/members/candidates/",
        register_views.MemberCandidatesView.as_view(),
        name="member-candidates",
    ),
    path(
        "contacts/<int:pk>/remove/",
        views.ContactRemoveView.as_view(),
        name="contact-household-remove",
    ),
    path("pairings/<int:pk>/end/", views.PairingEndView.as_view(), name="pairing-end"),
    # member groups
    path("nodes/<int:pk>/group/", group_views.GroupSheetView.as_view(), name="group-sheet"),
    path(
        "nodes/<int:pk>/group/roles/",
        group_views.GroupRoleAssignView.as_view(),
        name="group-role-assign",
    ),
    path(
        "nodes/<int:pk>/group/commendations/",
        group_views.GroupCommendationView.as_view(),
        name="group-commendation-add",
    ),
    path(
        "group-roles/<int:pk>/end/",
        group_views.GroupRoleEndView.as_view(),
        name="group-role-end",
    ),
    # volunteer teams
    path(
        "nodes/<int:pk>/volunteers/",
        group_views.VolunteersView.as_view(),
        name="volunteer-team-list",
    ),
    path(
        "nodes/<int:pk>/volunteers/new/",
        group_views.VolunteerTeamCreateView.as_view(),
        name="volunteer-team-create",
    ),
    path(
        "volunteer-teams/<int:pk>/members/",
        group_views.VolunteerJoinView.as_view(),
        name="volunteer-team-join",
    ),
    # council seats held by members
    path("seats/<int:pk>/member/", group_views.SeatMemberView.as_view(), name="seat-member"),
]
