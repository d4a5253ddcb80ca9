"""Content negotiation for an API that only ever answers JSON."""

from rest_framework.negotiation import DefaultContentNegotiation


class JSONOnlyNegotiation(DefaultContentNegotiation):
    """Answer with the one renderer whatever the client's Accept header says.

    Parsing and ranking Accept headers took a tenth of a report's time in the benchmark
    (bench/README.md) to arrive, every time, at the only renderer there is. Request bodies are
    still matched against the parsers, so a form post stays a 415.
    """

    def select_renderer(self, request, renderers, format_suffix=None):
        renderer = renderers[0]
        return renderer, renderer.media_type
