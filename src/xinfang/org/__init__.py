"""The organisation: the petition bureau, county departments, townships and villages, and the staff who use it."""
