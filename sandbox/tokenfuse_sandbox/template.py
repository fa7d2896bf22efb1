"""Reading template.yaml the way CloudFormation + SAM would: short tags, intrinsics, Conditions,
Globals. A wiring mistake (a !Ref to nothing, an unknown attribute, an unresolved substitution)
raises :class:`TemplateError` with the path of the value that failed."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ACCOUNT_ID = "111122223333"
REGION = "us-east-1"
STACK_NAME = "tokenfuse-sandbox"


class TemplateError(Exception):
    """The template cannot be read or resolved: the message names where and why."""


class _NoValue:
    def __repr__(self) -> str:
        return "AWS::NoValue"


NO_VALUE: Any = _NoValue()


# --------------------------------------------------------------------------------------------------
# Loading: a SafeLoader that turns CloudFormation short tags into their long forms
# --------------------------------------------------------------------------------------------------
_SHORT_TAGS = [
    "Ref",
    "GetAtt",
    "Sub",
    "If",
    "Equals",
    "Not",
    "And",
    "Or",
    "Select",
    "Join",
    "Split",
    "FindInMap",
    "Base64",
    "GetAZs",
    "ImportValue",
    "Condition",
    "Cidr",
    "Length",
    "ToJsonString",
    "Transform",
]


class CfnLoader(yaml.SafeLoader):
    """SafeLoader that understands !Ref, !GetAtt, !Sub ... as {"Ref": ...}, {"Fn::GetAtt": ...}."""


def _make_constructor(tag: str) -> Callable[[yaml.SafeLoader, yaml.Node], Any]:
    key = tag if tag in ("Ref", "Condition") else f"Fn::{tag}"

    def construct(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
        if isinstance(node, yaml.ScalarNode):
            value: Any = loader.construct_scalar(node)
            if tag == "GetAtt" and isinstance(value, str):
                value = value.split(".", 1)
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        else:
            value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
        return {key: value}

    return construct


for _tag in _SHORT_TAGS:
    CfnLoader.add_constructor(f"!{_tag}", _make_constructor(_tag))


def load_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.load(path.read_text(), Loader=CfnLoader)  # noqa: S506 - CfnLoader is a SafeLoader
    except yaml.YAMLError as error:
        raise TemplateError(f"{path}: not valid YAML: {error}") from error
    if not isinstance(data, dict) or "Resources" not in data:
        raise TemplateError(f"{path}: not a CloudFormation template (no Resources)")
    return data


# --------------------------------------------------------------------------------------------------
# Physical resources: what Ref and GetAtt give for a logical id
# --------------------------------------------------------------------------------------------------
@dataclass
class Physical:
    logical_id: str
    type: str
    ref: Any
    attrs: dict[str, Any] = field(default_factory=dict)


_SUB_VAR = re.compile(r"\$\{([^}!][^}]*)\}")


class Template:
    """A parsed template with parameters, conditions and intrinsic resolution.

    Physical ids come from ``physical`` (a callable the provisioner gives: logical id -> Physical),
    so resolution can create resources on demand in dependency order.
    """

    def __init__(
        self,
        path: str | Path,
        parameters: Mapping[str, Any] | None = None,
        account_id: str = ACCOUNT_ID,
        region: str = REGION,
        stack_name: str = STACK_NAME,
    ) -> None:
        self.path = Path(path).resolve()
        self.base_dir = self.path.parent
        self.data = load_yaml(self.path)
        self.account_id = account_id
        self.region = region
        self.stack_name = stack_name
        self.resources: dict[str, dict[str, Any]] = self.data.get("Resources") or {}
        self.mappings: dict[str, Any] = self.data.get("Mappings") or {}
        self.globals: dict[str, Any] = self.data.get("Globals") or {}
        self.parameters = self._parameters(parameters or {})
        self._conditions_raw: dict[str, Any] = self.data.get("Conditions") or {}
        self._conditions: dict[str, bool] = {}
        self.physical: Callable[[str], Physical] | None = None
        # SAM's generated resources (FunctionRole, FunctionUrl, event rules...) -> their type
        self.implicit: dict[str, str] = self._implicit_resources()
        for name in self._conditions_raw:
            self.condition(name)

    # -- parameters and conditions ----------------------------------------------------------------
    def _parameters(self, overrides: Mapping[str, Any]) -> dict[str, Any]:
        declared: dict[str, Any] = self.data.get("Parameters") or {}
        unknown = sorted(set(overrides) - set(declared))
        if unknown:
            raise TemplateError(f"parameters not declared in the template: {', '.join(unknown)}")
        values: dict[str, Any] = {}
        for name, spec in declared.items():
            if name in overrides:
                value = overrides[name]
            elif "Default" in spec:
                value = spec["Default"]
            else:
                raise TemplateError(f"parameter {name} has no Default and no value was given")
            value = str(value) if spec.get("Type", "String") in ("String", "Number") else value
            allowed = spec.get("AllowedValues")
            if allowed is not None and value not in [str(a) for a in allowed]:
                raise TemplateError(f"parameter {name}={value!r} is not one of {allowed}")
            pattern = spec.get("AllowedPattern")
            if pattern and isinstance(value, str) and not re.fullmatch(pattern, value):
                raise TemplateError(f"parameter {name}={value!r} does not match {pattern}")
            values[name] = value
        return values

    def condition(self, name: str) -> bool:
        if name not in self._conditions:
            if name not in self._conditions_raw:
                raise TemplateError(f"Conditions: {name} is not declared")
            self._conditions[name] = bool(self.resolve(self._conditions_raw[name], f"Conditions.{name}"))
        return self._conditions[name]

    def enabled(self, logical_id: str) -> bool:
        cond = self.resources[logical_id].get("Condition")
        return cond is None or self.condition(cond)

    # -- pseudo parameters ------------------------------------------------------------------------
    @property
    def pseudo(self) -> dict[str, Any]:
        return {
            "AWS::AccountId": self.account_id,
            "AWS::Region": self.region,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::StackName": self.stack_name,
            "AWS::StackId": f"arn:aws:cloudformation:{self.region}:{self.account_id}:stack/{self.stack_name}/"
            "00000000-0000-0000-0000-000000000000",
            "AWS::NotificationARNs": [],
            "AWS::NoValue": NO_VALUE,
        }

    # -- resolution -------------------------------------------------------------------------------
    def _implicit_resources(self) -> dict[str, str]:
        implicit: dict[str, str] = {}
        for lid, res in self.resources.items():
            props = res.get("Properties") or {}
            if res.get("Type") == "AWS::Serverless::Function":
                if "Role" not in props:
                    implicit[f"{lid}Role"] = "AWS::IAM::Role"
                if "FunctionUrlConfig" in props:
                    implicit[f"{lid}Url"] = "AWS::Lambda::Url"
                if "AutoPublishAlias" in props:
                    implicit[f"{lid}Alias{props['AutoPublishAlias']}"] = "AWS::Lambda::Alias"
                for name, ev in (props.get("Events") or {}).items():
                    kind = ev.get("Type")
                    if kind in ("EventBridgeRule", "CloudWatchEvent", "Schedule"):
                        implicit[f"{lid}{name}"] = "AWS::Events::Rule"
                    elif kind == "ScheduleV2":
                        implicit[f"{lid}{name}"] = "AWS::Scheduler::Schedule"
                    elif kind == "SQS":
                        implicit[f"{lid}{name}"] = "AWS::Lambda::EventSourceMapping"
            elif res.get("Type") == "AWS::Serverless::StateMachine" and "Role" not in props:
                implicit[f"{lid}Role"] = "AWS::IAM::Role"
        return implicit

    def _physical(self, logical_id: str, where: str) -> Physical:
        if logical_id in self.implicit and logical_id not in self.resources:
            if self.physical is None:
                raise TemplateError(f"{where}: resource {logical_id!r} has no physical id yet")
            return self.physical(logical_id)
        if logical_id not in self.resources:
            raise TemplateError(f"{where}: refers to {logical_id!r}, which is not a parameter or resource")
        if not self.enabled(logical_id):
            raise TemplateError(
                f"{where}: refers to {logical_id!r}, whose Condition "
                f"{self.resources[logical_id]['Condition']} is false"
            )
        if self.physical is None:
            raise TemplateError(f"{where}: resource {logical_id!r} has no physical id yet")
        return self.physical(logical_id)

    def ref(self, name: str, where: str) -> Any:
        if name in self.parameters:
            return self.parameters[name]
        if name in self.pseudo:
            return self.pseudo[name]
        if name.startswith("AWS::"):
            raise TemplateError(f"{where}: unknown pseudo parameter {name}")
        return self._physical(name, where).ref

    def get_att(self, logical_id: str, attr: str, where: str) -> Any:
        physical = self._physical(logical_id, where)
        if attr not in physical.attrs:
            known = ", ".join(sorted(physical.attrs)) or "none"
            raise TemplateError(
                f"{where}: {logical_id} ({physical.type}) has no attribute {attr!r} (known: {known})"
            )
        return physical.attrs[attr]

    def sub(self, text: str, variables: Mapping[str, Any], where: str) -> str:
        def replace(match: re.Match[str]) -> str:
            name = match.group(1).strip()
            if name in variables:
                value = variables[name]
            elif "." in name and (
                name.split(".", 1)[0] in self.resources or name.split(".", 1)[0] in self.implicit
            ):
                lid, attr = name.split(".", 1)
                value = self.get_att(lid, attr, where)
            else:
                value = self.ref(name, where)
            if isinstance(value, (dict, list)):
                raise TemplateError(f"{where}: ${{{name}}} is not a string")
            return str(value)

        out = _SUB_VAR.sub(replace, text)
        return out.replace("${!", "${")

    def resolve(self, value: Any, where: str = "") -> Any:  # noqa: PLR0911, PLR0912
        if isinstance(value, list):
            items = [self.resolve(v, f"{where}[{i}]") for i, v in enumerate(value)]
            return [v for v in items if v is not NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, arg),) = value.items()
            here = f"{where}.{key}" if where else key
            if key == "Ref":
                return self.ref(str(arg), here)
            if key == "Fn::GetAtt":
                parts = arg.split(".", 1) if isinstance(arg, str) else self.resolve(arg, here)
                if len(parts) != 2:
                    raise TemplateError(f"{here}: GetAtt needs LogicalId.Attribute, got {arg!r}")
                return self.get_att(parts[0], parts[1], here)
            if key == "Fn::Sub":
                if isinstance(arg, str):
                    return self.sub(arg, {}, here)
                text, variables = arg
                return self.sub(text, self.resolve(variables, here), here)
            if key == "Fn::If":
                cond, if_true, if_false = arg
                return self.resolve(if_true if self.condition(cond) else if_false, here)
            if key == "Fn::Equals":
                a, b = self.resolve(arg, here)
                return str(a) == str(b)
            if key == "Fn::Not":
                return not self.resolve(arg, here)[0]
            if key == "Fn::And":
                return all(self.resolve(arg, here))
            if key == "Fn::Or":
                return any(self.resolve(arg, here))
            if key == "Condition":
                return self.condition(arg)
            if key == "Fn::Join":
                sep, items = arg
                return str(sep).join(str(i) for i in self.resolve(items, here))
            if key == "Fn::Split":
                sep, text = self.resolve(arg, here)
                return str(text).split(sep)
            if key == "Fn::Select":
                index, items = self.resolve(arg, here)
                try:
                    return items[int(index)]
                except (IndexError, ValueError) as error:
                    raise TemplateError(f"{here}: Select index {index} out of range") from error
            if key == "Fn::FindInMap":
                name, top, second = self.resolve(arg, here)
                try:
                    return self.mappings[name][top][second]
                except KeyError as error:
                    raise TemplateError(f"{here}: no mapping {name}.{top}.{second}") from error
            if key == "Fn::Base64":
                import base64

                return base64.b64encode(str(self.resolve(arg, here)).encode()).decode()
            if key == "Fn::GetAZs":
                return [f"{self.region}{z}" for z in "abc"]
            if key == "Fn::ToJsonString":
                return json.dumps(self.resolve(arg, here))
            if key == "Fn::Length":
                return len(self.resolve(arg, here))
            if key.startswith("Fn::") or key in ("Fn::ImportValue",):
                raise TemplateError(f"{here}: intrinsic {key} is not supported by the sandbox")
        out = {}
        for k, v in value.items():
            resolved = self.resolve(v, f"{where}.{k}" if where else str(k))
            if resolved is not NO_VALUE:
                out[k] = resolved
        return out

    # -- SAM ----------------------------------------------------------------------------------------
    def of_type(self, *types: str) -> list[str]:
        return [lid for lid, r in self.resources.items() if r.get("Type") in types and self.enabled(lid)]

    def function_properties(self, logical_id: str) -> dict[str, Any]:
        """The function's Properties with SAM Globals applied (not yet resolved)."""
        own = copy.deepcopy(self.resources[logical_id].get("Properties") or {})
        glob = copy.deepcopy(self.globals.get("Function") or {})
        merged: dict[str, Any] = dict(glob)
        for key, value in own.items():
            if key == "Environment":
                gvars = (glob.get("Environment") or {}).get("Variables") or {}
                fvars = (value or {}).get("Variables") or {}
                merged["Environment"] = {"Variables": {**gvars, **fvars}}
            elif key == "Layers" and isinstance(value, list):
                merged["Layers"] = list(glob.get("Layers") or []) + value
            elif key in glob and isinstance(value, dict) and isinstance(glob[key], dict):
                merged[key] = {**glob[key], **value}
            else:
                merged[key] = value
        return merged

    def state_machine_definition(self, logical_id: str) -> str:
        """The ASL text with DefinitionSubstitutions applied; raises on any variable left over."""
        props = self.resources[logical_id].get("Properties") or {}
        where = f"Resources.{logical_id}"
        if "DefinitionUri" in props:
            uri = props["DefinitionUri"]
            if not isinstance(uri, str):
                raise TemplateError(f"{where}.DefinitionUri: only a local file path is supported")
            path = self.base_dir / uri
            if not path.is_file():
                raise TemplateError(f"{where}.DefinitionUri: {uri} does not exist")
            text = path.read_text()
        elif "Definition" in props:
            text = json.dumps(self.resolve(props["Definition"], f"{where}.Definition"))
        else:
            raise TemplateError(f"{where}: neither Definition nor DefinitionUri")
        subs = self.resolve(props.get("DefinitionSubstitutions") or {}, f"{where}.DefinitionSubstitutions")
        used = set(re.findall(r"\$\{([^}]*)\}", text))
        missing = sorted(used - set(subs))
        if missing:
            raise TemplateError(
                f"{where}: the definition uses ${{{'}, ${'.join(missing)}}} but DefinitionSubstitutions "
                f"gives only {sorted(subs)}"
            )
        for name, value in subs.items():
            text = text.replace("${" + name + "}", str(value))
        left = re.findall(r"\$\{[^}]*\}", text)
        if left:
            raise TemplateError(f"{where}: unresolved {left[0]} left in the substituted definition")
        try:
            definition = json.loads(text)
        except json.JSONDecodeError as error:
            raise TemplateError(f"{where}: substituted definition is not valid JSON: {error}") from error
        check_transitions(definition, where)
        return text


def check_transitions(definition: dict[str, Any], where: str) -> None:
    """What Step Functions checks at create time and moto's parser does not: every StartAt, Next,
    Default and Catch Next names a state of its scope (MISSING_TRANSITION_TARGET)."""
    states = definition.get("States") or {}
    names = set(states)

    def need(target: Any, place: str) -> None:
        if target not in names:
            known = sorted(names)
            raise TemplateError(f"{where}: {place} names {target!r}, which is not a state (known: {known})")

    need(definition.get("StartAt"), "StartAt")
    for name, state in states.items():
        if "Next" in state:
            need(state["Next"], f"States.{name}.Next")
        if "Default" in state:
            need(state["Default"], f"States.{name}.Default")
        for i, choice in enumerate(state.get("Choices") or []):
            if "Next" in choice:
                need(choice["Next"], f"States.{name}.Choices[{i}].Next")
        for i, catch in enumerate(state.get("Catch") or []):
            need(catch.get("Next"), f"States.{name}.Catch[{i}].Next")
        for i, branch in enumerate(state.get("Branches") or []):
            check_transitions(branch, f"{where}.States.{name}.Branches[{i}]")
        for key in ("Iterator", "ItemProcessor"):
            if isinstance(state.get(key), dict):
                check_transitions(state[key], f"{where}.States.{name}.{key}")
