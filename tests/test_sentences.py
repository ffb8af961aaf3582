from assistant.sentences import SentenceSplitter, speakable


def stream(text: str, min_clause_words: int = 6) -> list[str]:
    splitter = SentenceSplitter(min_clause_words)
    out: list[str] = []
    for i in range(0, len(text), 3):  # tokens of a few characters, as an LLM streams them
        out += splitter.feed(text[i:i + 3])
    return out + splitter.flush()


def test_sentences_come_out_as_soon_as_complete():
    splitter = SentenceSplitter(6)
    assert splitter.feed("Hello there. How") == ["Hello there."]
    assert splitter.feed(" are you?") == []
    assert splitter.flush() == ["How are you?"]


def test_decimals_and_abbreviations_do_not_split():
    assert stream("It costs 3.5 dollars, Dr. Smith said. Fine!") == ["It costs 3.5 dollars, Dr. Smith said.", "Fine!"]


def test_long_clauses_split_at_commas_short_ones_do_not():
    text = "When you go up the mountain in winter, take warm clothes. Yes, really."
    assert stream(text) == ["When you go up the mountain in winter,", "take warm clothes.", "Yes, really."]


def test_list_numbers_join_the_next_piece_and_markdown_is_dropped():
    assert stream("1. **Water** bottle. 2. A hat.") == ["1. Water bottle.", "2. A hat."]
    assert speakable("# Hi *there* 😀") == "Hi there"
