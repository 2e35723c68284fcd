from __future__ import annotations


class ErrorFocusMixin:
    """Puts `autofocus` on the first field in error, in the form's field order.

    Recomputed on every `add_error`, so an error a service adds after validation (a duplicate
    name, a key in use) moves the focus too. Browsers honour `autofocus` on a page load, and
    htmx 2 on swapped content, so the first error gets focus with or without JavaScript.
    """

    def add_error(self, field, error) -> None:
        super().add_error(field, error)
        focus_first_error(self)

    @property
    def error_count(self) -> int:
        return sum(len(errors) for errors in self.errors.values())


def focus_first_error(form) -> None:
    """`autofocus` on the form's first field in error (field order), and on no other field."""
    first = next((name for name in form.fields if name in form.errors), None)
    for name, form_field in form.fields.items():
        if name == first:
            form_field.widget.attrs["autofocus"] = True
        else:
            form_field.widget.attrs.pop("autofocus", None)
