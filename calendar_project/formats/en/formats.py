"""English dates as hospital teams write them: day before month, month by name, 24-hour clock.

"12/04/2027" is read as 12 April in most of the world and 4 December in the US; a month name
is never misread, and wards run on the 24-hour clock.
"""

DATE_FORMAT = "j F Y"  # 4 December 2026
TIME_FORMAT = "H:i"  # 20:04
DATETIME_FORMAT = "j F Y, H:i"  # 4 December 2026, 20:04
YEAR_MONTH_FORMAT = "F Y"  # December 2026
MONTH_DAY_FORMAT = "j F"  # 4 December
SHORT_DATE_FORMAT = "j M Y"  # 4 Dec 2026
SHORT_DATETIME_FORMAT = "j M Y, H:i"  # 4 Dec 2026, 20:04
FIRST_DAY_OF_WEEK = 1  # Monday

# ISO first: <input type="date"> and the plan CSV send it. No month-first pattern: "12/04/2027" is 12 April.
DATE_INPUT_FORMATS = [
    "%Y-%m-%d",  # 2026-12-04
    "%d/%m/%Y",  # 04/12/2026
    "%d %b %Y",  # 4 Dec 2026
    "%d %B %Y",  # 4 December 2026
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
    "%d/%m/%Y %H:%M",  # 04/12/2026 20:04
    "%d %b %Y, %H:%M",  # 4 Dec 2026, 20:04
]
DECIMAL_SEPARATOR = "."
THOUSAND_SEPARATOR = ","
NUMBER_GROUPING = 3
