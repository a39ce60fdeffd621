"""The recognition pipeline, one module a stage: decode, detect, crop, embed, search, decide, dedupe.

`recognize.Recognizer` runs them in order for a checkout; `recognize.Stages` is shared with enrolment.
"""
