"""MCP prompts: ready-made workflows a user can pick in their host."""

from __future__ import annotations

from typing import Annotated

from mcp.server import MCPServer
from pydantic import Field


def register_prompts(server: MCPServer) -> None:
    @server.prompt(
        name="storyboard",
        title="Storyboard to video",
        description="Sketch a scene as a few images, pick the best, then animate it.",
    )
    def storyboard(
        idea: Annotated[str, Field(description="The scene or story to visualise.")],
        frames: Annotated[int, Field(ge=2, le=6, description="How many images to try.")] = 3,
        aspect_ratio: Annotated[str, Field(description="e.g. 16:9 or 9:16")] = "16:9",
    ) -> str:
        return (
            f"Make a short storyboard for: {idea}\n\n"
            f"1. Write {frames} distinct shot descriptions for it (composition, light, mood).\n"
            f"2. For each, call generate_image with aspect_ratio={aspect_ratio!r} and a "
            "client_ref like 'storyboard-1'. Start them all before waiting; if one returns "
            "status processing, wait with get_status(job_id, wait_seconds=30).\n"
            "3. Show me the images and say which one works best as the opening shot, and why.\n"
            "4. When I agree, call generate_video with first_frame set to that image's "
            "outputs[0].path, a prompt describing the motion, and the same aspect ratio. "
            "Videos take minutes: keep calling get_status(job_id, wait_seconds=30) until it is "
            "completed, then show it to me.\n"
            "Say what each step is expected to cost (expected_credits) before starting it."
        )

    @server.prompt(
        name="variations",
        title="Variations of an image",
        description="Explore variations of a prompt across models and compare them.",
    )
    def variations(
        prompt: Annotated[str, Field(description="What to generate.")],
        models: Annotated[
            str, Field(description="Comma-separated model ids (see list_models).")
        ] = "google/nano-banana,seedream/4.5-text-to-image,z-image",
    ) -> str:
        chosen = [name.strip() for name in models.split(",") if name.strip()]
        return (
            f"Generate the image {prompt!r} once with each of these models: "
            f"{', '.join(chosen)}. Use generate_image with the same prompt and a client_ref "
            "of 'variations'. Then show the results side by side with each model's cost "
            "(credits) and time, and recommend one."
        )

    @server.prompt(
        name="find_media",
        title="Find earlier media",
        description="Search the local library for earlier generations.",
    )
    def find_media(
        words: Annotated[str, Field(description="Words from the prompt you remember.")],
    ) -> str:
        return (
            f"Search my media library with list_media(query={words!r}). Show what you find "
            "with their file paths and dates; if there are more pages, ask before fetching "
            "them."
        )
