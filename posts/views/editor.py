from django.http import HttpRequest, HttpResponse


def post_create_view(request: HttpRequest, pk: int = 0) -> HttpResponse:
    raise NotImplementedError


def findings_view(request: HttpRequest, pk: int = 0) -> HttpResponse:
    raise NotImplementedError


def post_detail_view(request: HttpRequest, pk: int = 0) -> HttpResponse:
    raise NotImplementedError


def post_edit_view(request: HttpRequest, pk: int = 0) -> HttpResponse:
    raise NotImplementedError


def post_schedule_view(request: HttpRequest, pk: int = 0) -> HttpResponse:
    raise NotImplementedError


def post_unschedule_view(request: HttpRequest, pk: int = 0) -> HttpResponse:
    raise NotImplementedError


def post_withdraw_view(request: HttpRequest, pk: int = 0) -> HttpResponse:
    raise NotImplementedError
