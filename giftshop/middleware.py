"""Project-wide middleware."""

from django.utils.cache import patch_cache_control


class PrivateCacheMiddleware:
    """What a logged-in user is shown (pages, partials, exports) is theirs: no browser history, shared
    computer or proxy may keep a copy. A response that says itself how to cache it is left alone."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and not response.has_header("Cache-Control"):
            patch_cache_control(response, private=True, no_store=True)
        return response
