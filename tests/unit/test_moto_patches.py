"""Every change inside moto goes through emulation/moto_patches.py, only under the pinned moto, and
is undone exactly."""

import ast
import re
import tomllib
from importlib import metadata
from pathlib import Path

import pytest

from tokenfuse_sandbox import Sandbox
from tokenfuse_sandbox.emulation import moto_patches
from tokenfuse_sandbox.emulation.moto_patches import PINNED_MOTO, MotoPatches, UnsupportedMoto

ROOT = Path(__file__).resolve().parents[2]
SANDBOX = ROOT / "sandbox" / "tokenfuse_sandbox"


@pytest.fixture
def another_moto(monkeypatch):
    real = metadata.version

    def version(name):
        return "5.3.0" if name == "moto" else real(name)

    monkeypatch.setattr(moto_patches.metadata, "version", version)
    moto_patches.require_pinned_moto.cache_clear()
    yield
    moto_patches.require_pinned_moto.cache_clear()


def test_the_pin_is_the_one_pyproject_installs_and_the_one_installed():
    dependencies = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    [moto] = [d for d in dependencies if d.startswith("moto")]
    assert re.fullmatch(r"moto\[[a-z,]+\]==(\S+)", moto.split("#")[0].strip())[1] == PINNED_MOTO
    assert metadata.version("moto") == PINNED_MOTO


def test_another_moto_is_refused_in_one_line(another_moto):
    with pytest.raises(UnsupportedMoto) as refused:
        moto_patches.require_pinned_moto()
    message = str(refused.value)
    assert "\n" not in message
    assert "5.2.5" in message and "found moto 5.3.0" in message


def test_the_sandbox_refuses_to_start_under_another_moto(another_moto):
    with pytest.raises(UnsupportedMoto), Sandbox(load_handlers=False):
        pytest.fail("the sandbox started")


def test_no_patch_is_made_under_another_moto(another_moto):
    class Owner:
        value = 1

    with pytest.raises(UnsupportedMoto):
        MotoPatches().replace(Owner, "value", 2)
    assert Owner.value == 1


def test_restore_puts_back_exactly_what_was_there():
    def helper():
        return "static"

    class Base:
        inherited = "base"

    class Owner(Base):
        plain = "plain"
        static = staticmethod(helper)

    table = {"kept": 1}
    patches = MotoPatches()
    assert patches.replace(Owner, "static", staticmethod(lambda: "new"))() == "static"
    patches.replace(Owner, "plain", "new")
    patches.replace(Owner, "inherited", "own")
    patches.replace(Owner, "added", "new")
    patches.replace(table, "kept", 2)
    patches.replace(table, "added", 3)
    assert patches.original(Owner, "static")() == "static"
    assert (Owner.static(), Owner.plain, Owner.inherited, Owner.added) == ("new", "new", "own", "new")
    assert table == {"kept": 2, "added": 3}

    patches.restore()
    assert isinstance(vars(Owner)["static"], staticmethod) and Owner.static() == "static"
    assert Owner.plain == "plain" and Owner.inherited == "base" and "inherited" not in vars(Owner)
    assert not hasattr(Owner, "added")
    assert table == {"kept": 1}
    assert not patches.installed


def _moto_names(tree: ast.Module) -> set[str]:
    """Names a module binds to moto's modules and classes (imported at any depth)."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "moto":
            names.update(alias.asname or alias.name for alias in node.names)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "moto":
                    names.add(alias.asname or alias.name.split(".")[0])
    return names


def _root(node: ast.expr) -> str | None:
    while isinstance(node, ast.Attribute | ast.Subscript):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def _writes_into_moto(path: Path) -> list[str]:
    tree = ast.parse(path.read_text())
    moto = _moto_names(tree)
    found = []
    for node in ast.walk(tree):
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, ast.AugAssign | ast.AnnAssign):
            targets = [node.target]
        elif isinstance(node, ast.Delete):
            targets = node.targets
        for target in targets:
            if isinstance(target, ast.Attribute | ast.Subscript) and _root(target) in moto:
                found.append(f"{path.name}:{node.lineno}")
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in {"setattr", "delattr"}
            and node.args
            and _root(node.args[0]) in moto
        ):
            found.append(f"{path.name}:{node.lineno}")
    return sorted(found, key=lambda hit: int(hit.rpartition(":")[2]))


def test_the_scan_sees_a_direct_patch(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text(
        "from moto.events.models import Rule\nimport moto.sns.models as sns\n"
        "Rule.send_to_targets = None\nsetattr(sns, 'x', 1)\nsns.table['k'] = 2\n"
    )
    assert _writes_into_moto(sample) == ["sample.py:3", "sample.py:4", "sample.py:5"]


def test_only_moto_patches_writes_into_moto():
    offenders = [
        hit
        for path in sorted(SANDBOX.rglob("*.py"))
        if path.name != "moto_patches.py"
        for hit in _writes_into_moto(path)
    ]
    assert offenders == []


def test_kept_action_names_follow_an_operation_a_patch_adds_and_restore_removes():
    """moto's dispatch asks for its response class's functions on every request; they are kept per
    class (keep_action_names), so an operation an emulation adds is found, and one it took back is
    gone, from the request after the patch."""
    import boto3
    from moto import mock_aws
    from moto.sqs.responses import SQSResponse

    def list_queues(self):  # an emulation's own answer to an operation moto already has
        return '{"QueueUrls": ["https://sqs.us-east-1.amazonaws.com/123456789012/emulated"]}'

    with mock_aws():
        sqs = boto3.client("sqs", region_name="us-east-1")
        sqs.create_queue(QueueName="real")
        names = moto_patches._action_names(SQSResponse)
        assert "list_queues" in names and "no_such_operation" not in names

        patches = MotoPatches()
        patches.replace(SQSResponse, "no_such_operation", lambda self: "")
        assert "no_such_operation" in moto_patches._action_names(SQSResponse)
        patches.replace(SQSResponse, "list_queues", list_queues)
        assert sqs.list_queues()["QueueUrls"][0].endswith("/emulated")
        patches.restore()

        assert "no_such_operation" not in moto_patches._action_names(SQSResponse)
        assert sqs.list_queues()["QueueUrls"][0].endswith("/real")


def test_a_template_body_is_parsed_once_and_every_stack_gets_its_own_copy(monkeypatch):
    """moto parses a stack's template for every stack it creates (each stack set instance is one);
    keep_parsed_templates parses each body once: the stacks' templates are the same as moto's own
    parse, each stack's its own object, and restore puts moto's parse back."""
    import boto3
    import yaml
    from moto import mock_aws
    from moto.cloudformation.models import Stack

    body = (
        "Resources:\n  Topic:\n    Type: AWS::SNS::Topic\n"
        "    Properties:\n      TopicName: !Sub 'a-${AWS::Region}'\n"
    )
    loads: list[str] = []
    real_load = yaml.load

    def counting_load(stream, Loader):
        loads.append(stream)
        return real_load(stream, Loader=Loader)

    monkeypatch.setattr(yaml, "load", counting_load)
    unpatched = Stack.parse_template(body)
    patches = MotoPatches()
    moto_patches.keep_parsed_templates(patches)
    try:
        with mock_aws():
            cfn = boto3.client("cloudformation", region_name="us-east-1")
            for name in ("one", "two", "three"):
                cfn.create_stack(StackName=name, TemplateBody=body)
            stacks = [Stack.parse_template(body), Stack.parse_template(body)]
        # Then the body was parsed once more than the unpatched parse, whatever the stacks created
        assert loads.count(body) == 2
        assert stacks[0] == stacks[1] == unpatched and stacks[0] is not stacks[1]
    finally:
        patches.restore()
        moto_patches._PARSED_TEMPLATES.clear()
    Stack.parse_template(body)
    assert loads.count(body) == 3  # moto's own parse again
