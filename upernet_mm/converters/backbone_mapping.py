"""Interface shared by the backbone mappings (one module per family)."""
from typing import Any, Dict, List

from .rules import Rule, rename_params


class BackboneMapping:
    """How one backbone family maps between transformers and upernet_mm.

    Subclasses describe configs (both directions) and the state-dict rules
    of the trunk; the output norms shared by ConvNeXt and Swin are here.

    Attributes:
        hf_model_type (str): ``model_type`` of the transformers config.
        mm_types (tuple[str]): Backbone ``type`` names (without scope) that
            map; other variants of the family are refused with a reason.
        hf_defaults (dict): Defaults of the transformers config fields in
            the supported transformers version.
        hf_trunk_prefix (str): Where the trunk sits inside the transformers
            ``*Backbone`` module (``'swin.'`` for Swin).
        hf_base_prefix (str): Where the trunk sits in the standalone
            transformers models (``*Model``, ``*ForImageClassification``).
        has_out_norms (bool): Whether the backbone normalises each output
            (``hidden_states_norms`` / ``norm{i}``).
    """
    hf_model_type = ''
    mm_types: tuple = ()
    hf_defaults: Dict[str, Any] = {}
    hf_trunk_prefix = ''
    hf_base_prefix = ''
    has_out_norms = True

    def to_mm_config(self, hf_cfg: Dict[str, Any],
                     field: str) -> Dict[str, Any]:
        """The mm backbone config of a transformers backbone config.

        Args:
            hf_cfg (dict): The transformers config, defaults filled in.
            field (str): Where it sits (e.g. ``config.json:backbone_config``)
                for errors.
        """
        raise NotImplementedError

    def to_hf_config(self, mm_cfg: Dict[str, Any],
                     field: str) -> Dict[str, Any]:
        """The transformers backbone config (with ``model_type``) of an mm
        backbone config; ``field`` names it in errors."""
        raise NotImplementedError

    def out_indices(self, mm_cfg: Dict[str, Any], field: str) -> List[int]:
        """Increasing stage indices the mm backbone outputs."""
        raise NotImplementedError

    def out_channels(self, mm_cfg: Dict[str, Any]) -> List[int]:
        """Channels of each output of the mm backbone."""
        raise NotImplementedError

    def trunk_rules(self, mm_cfg: Dict[str, Any], mm_prefix: str,
                    hf_prefix: str) -> List[Rule]:
        """Rules of every weight of the trunk (all but the output norms)."""
        raise NotImplementedError

    def out_norm_rules(self, mm_cfg: Dict[str, Any], mm_prefix: str,
                       hf_prefix: str) -> List[Rule]:
        """Rules of the output norms: ``norm{i}`` in mm,
        ``hidden_states_norms.stage{i+1}`` in transformers."""
        if not self.has_out_norms:
            return []
        rules = []
        for i in self.out_indices(mm_cfg, 'backbone'):
            rules += rename_params(f'{mm_prefix}norm{i}',
                                   f'{hf_prefix}hidden_states_norms.'
                                   f'stage{i + 1}')
        return rules

    def normalize_hf_state(self, state: Dict, hf_prefix: str) -> Dict:
        """Rename keys of older transformers layouts to the current one.

        Args:
            state (dict): An HF state dict.
            hf_prefix (str): Prefix of the backbone module in ``state``.
        """
        return state

    def hf_ignorable(self, key: str) -> bool:
        """Whether an HF key that no rule uses may be dropped silently
        (buffers transformers itself recomputes)."""
        return False
