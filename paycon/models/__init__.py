"""What the operator API answers, one pydantic model per resource.

The API serialises them (``model_dump(mode="json")``), the OpenAPI document
describes them, the use cases and the in-process facade hand them out and the
HTTP facade parses the API's answers into them: a new field is one edit.
Each model is built from its record in one place (its ``of`` constructor).
"""
