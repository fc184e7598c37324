from .models import Role
from .permissions import can_manage_users


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "nav_node": user.node if user.node_id else None,
        "nav_role": Role(user.role).label if user.role else "平台运维",
        "nav_can_manage_users": bool(user.node_id) and can_manage_users(user),
        "nav_is_operator": user.is_platform_operator,
    }
