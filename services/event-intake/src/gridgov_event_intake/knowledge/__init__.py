"""The hotline's knowledge base (知识库) for direct answers (直接答复): articles, their search, 直接答复率."""
