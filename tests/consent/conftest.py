import io

from tests.conftest import PDF_BYTES


def pdf() -> io.BytesIO:
    return io.BytesIO(PDF_BYTES)
