"""scripts/ship_generator.py: README's weight table and the credits it prints for emoji weights."""
import dataclasses

from gan_models import registry
from gan_models.emoji import EMOJI_CREDITS
from tests.helpers import REPO


def test_readme_table_prints_the_credits_of_emoji_weights(monkeypatch):
    monkeypatch.syspath_prepend(str(REPO / "scripts"))
    from ship_generator import readme_table

    mnist = registry.WEIGHTS[0]
    emoji = dataclasses.replace(mnist, model="dcgan64", dataset="emoji", credits=EMOJI_CREDITS)
    table = readme_table((mnist, emoji))
    assert table.endswith("\n".join(["Weights trained on emoji credit its images:",
                                     *(f"- {line}" for line in EMOJI_CREDITS)]))
    assert "credit" not in readme_table((mnist,))
