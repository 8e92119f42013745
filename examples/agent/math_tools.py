"""The tools of the classic ReAct example: `modelhub agent NAME "..." --tools
examples/agent/math_tools.py`."""


def add_numbers(a: int, b: int) -> int:
    """Add two integers.

    Args:
        a: The first number.
        b: The second number.
    """
    return a + b


def square_number(n: int) -> int:
    """Square an integer.

    Args:
        n: The number to square.
    """
    return n * n
