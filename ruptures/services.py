def signals_derive_for_measure(*, measure):  # replaced below
    raise NotImplementedError
