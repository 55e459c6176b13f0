"""Foreign exceptions (torch, onnx, onnxruntime, PIL) turned into the one line our errors quote."""


def first_line(err: BaseException) -> str:
    """The first line of `err`'s message, or its type's name when the message is empty."""
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__
