"""TF1 semantics checked against TensorFlow itself.

``cases.py`` is the grid (pure data), ``harness.py`` builds a case with any
TF1-like module, ``generate.py`` records TensorFlow's answers into
``tf_goldens.json`` (``make goldens TF_PYTHON=...``), ``test_goldens.py``
compares jaxsession with them, and ``differences.py`` lists the documented
differences, the known bugs (strict xfails) and the public ops without a case.

To add a case: append it to ``cases.py``, run ``make goldens``, run the tests;
a failure is either a bug (``KNOWN_BUGS``) or a deliberate difference
(``DIFFERENCES``, naming the aspect that differs).
"""
