from django.http import HttpRequest, HttpResponse


def campaign_list_view(request: HttpRequest, pk: int = 0) -> HttpResponse:
    raise NotImplementedError


def campaign_create_view(request: HttpRequest, pk: int = 0) -> HttpResponse:
    raise NotImplementedError


def campaign_detail_view(request: HttpRequest, pk: int = 0) -> HttpResponse:
    raise NotImplementedError


def campaign_edit_view(request: HttpRequest, pk: int = 0) -> HttpResponse:
    raise NotImplementedError
