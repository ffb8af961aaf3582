"""Long-term vector memory (chromadb + MiniLM): built in issue #4. Never imports renderers/."""
