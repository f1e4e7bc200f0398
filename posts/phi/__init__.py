"""Patient data in a post's text: names, dates, ids, ages, places in the hospital, diagnoses (issue 18).

``detect(text, language)`` returns `PhiSpan` s: offsets into the text as written, a label (the
labels of SPEC section 4 and the PHI corpus), a sensitivity (``high``: about a patient or another
private person; ``low``: the organisation's own contact data) and the reason it was raised.
"""

from posts.phi.recognisers import HIGH, LOW, PhiSpan, detect

__all__ = ["HIGH", "LOW", "PhiSpan", "detect"]
