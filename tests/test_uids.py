"""Component uids: they parse, print back unchanged, and reject what is outside the model."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from circuitbase.schema import ComponentKind, ComponentUid, UidError, parse_component
from circuitbase.schema.catalog import known_model

model_names = st.from_regex(r"\A[A-Za-z0-9][A-Za-z0-9._-]{0,30}\Z")
uids = st.builds(
    lambda model, layer, kind, index, dictionary: ComponentUid(
        model,
        layer,
        kind,
        None if kind in (ComponentKind.MLP, ComponentKind.ATTENTION) else index,
        dictionary if kind is ComponentKind.FEATURE else None,
    ),
    model_names,
    st.integers(0, 9999),
    st.sampled_from(list(ComponentKind)),
    st.integers(0, 10**8),
    st.from_regex(r"\A[A-Za-z0-9][A-Za-z0-9._-]{0,20}\Z"),
)


@given(uids)
def test_every_uid_prints_and_parses_back_to_itself(uid: ComponentUid) -> None:
    assert parse_component(str(uid)) == uid


@given(st.text(max_size=60))
def test_arbitrary_text_either_parses_canonically_or_raises_uid_error(text: str) -> None:
    try:
        parsed = parse_component(text)
    except UidError:
        return
    assert str(parsed) == text.strip()


@pytest.mark.parametrize(
    "text, expected",
    [
        ("gpt2-small/L3/N1234", ComponentUid("gpt2-small", 3, ComponentKind.NEURON, 1234)),
        ("gpt2-small/L5/H1", ComponentUid("gpt2-small", 5, ComponentKind.HEAD, 1)),
        ("gpt2-small/L3/MLP", ComponentUid("gpt2-small", 3, ComponentKind.MLP)),
        ("gpt2-small/L3/ATTN", ComponentUid("gpt2-small", 3, ComponentKind.ATTENTION)),
        (
            "gpt2-small/L8/res-jb/F4021",
            ComponentUid("gpt2-small", 8, ComponentKind.FEATURE, 4021, "res-jb"),
        ),
    ],
)
def test_design_examples_parse(text: str, expected: ComponentUid) -> None:
    assert parse_component(text) == expected
    assert str(expected) == text


def test_transformerlens_short_forms_need_the_model() -> None:
    assert str(parse_component("L5H1", model="gpt2-small")) == "gpt2-small/L5/H1"
    assert str(parse_component("L3N1234", model="gpt2-small")) == "gpt2-small/L3/N1234"
    assert str(parse_component("blocks.3.mlp", model="gpt2-small")) == "gpt2-small/L3/MLP"
    assert str(parse_component("blocks.3.attn", model="gpt2-small")) == "gpt2-small/L3/ATTN"
    with pytest.raises(UidError, match="need the model"):
        parse_component("L5H1")


@pytest.mark.parametrize(
    "bad",
    [
        "gpt2-small",
        "gpt2-small/L3",
        "gpt2-small/3/N1",
        "gpt2-small/L3/N",
        "gpt2-small/L3/N-1",
        "gpt2 small/L3/N1",
        "a/b/L3/N1",
        "gpt2-small/L3/N1' RETURN 1 //",
        "",
    ],
)
def test_malformed_uids_are_rejected_with_an_example_of_the_right_form(bad: str) -> None:
    with pytest.raises(UidError, match="gpt2-small/L3/N1234"):
        parse_component(bad)


@pytest.mark.parametrize(
    "uid, message",
    [
        ("gpt2-small/L12/N0", "layer 12 is out of range; gpt2-small has 12 layers"),
        ("gpt2-small/L0/N3072", "index 3072 is out of range; gpt2-small has 3072 neurons"),
        ("gpt2-small/L0/H12", "index 12 is out of range; gpt2-small has 12 heads"),
    ],
)
def test_uids_past_the_models_shape_are_rejected(uid: str, message: str) -> None:
    with pytest.raises(UidError, match=message):
        known_model("gpt2-small").parse(uid)


def test_attention_only_models_have_no_neurons() -> None:
    with pytest.raises(UidError, match="attention-only"):
        known_model("attn-only-2l").parse("attn-only-2l/L0/N0")


def test_relative_depth_runs_from_zero_to_one() -> None:
    spec = known_model("pythia-70m")
    assert [spec.relative_depth(layer) for layer in (0, 5)] == [0.0, 1.0]
    assert spec.relative_depth(1) == pytest.approx(0.2)
