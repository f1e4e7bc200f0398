"""German dates as German hospitals write them: 04.12.2026, 20:04."""

DATE_FORMAT = "j. F Y"  # 4. Dezember 2026
TIME_FORMAT = "H:i"  # 20:04
DATETIME_FORMAT = "j. F Y, H:i"  # 4. Dezember 2026, 20:04
YEAR_MONTH_FORMAT = "F Y"  # Dezember 2026
MONTH_DAY_FORMAT = "j. F"  # 4. Dezember
SHORT_DATE_FORMAT = "d.m.Y"  # 04.12.2026
SHORT_DATETIME_FORMAT = "d.m.Y, H:i"  # 04.12.2026, 20:04
FIRST_DAY_OF_WEEK = 1  # Montag

# ISO first: <input type="date"> and the plan CSV send it.
DATE_INPUT_FORMATS = [
    "%Y-%m-%d",  # 2026-12-04
    "%d.%m.%Y",  # 04.12.2026
    "%d.%m.%y",  # 04.12.26
]
TIME_INPUT_FORMATS = [
    "%H:%M",  # 20:04
    "%H:%M:%S",  # 20:04:00
    "%H:%M:%S.%f",  # 20:04:00.000200
]
DATETIME_INPUT_FORMATS = [
    "%Y-%m-%d %H:%M:%S",  # 2026-12-04 20:04:00
    "%Y-%m-%d %H:%M:%S.%f",  # 2026-12-04 20:04:00.000200
    "%Y-%m-%d %H:%M",  # 2026-12-04 20:04
    "%Y-%m-%dT%H:%M",  # 2026-12-04T20:04 (datetime-local)
    "%d.%m.%Y %H:%M",  # 04.12.2026 20:04
    "%d.%m.%Y, %H:%M",  # 04.12.2026, 20:04
]
DECIMAL_SEPARATOR = ","
THOUSAND_SEPARATOR = "."
NUMBER_GROUPING = 3
