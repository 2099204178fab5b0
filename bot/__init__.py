"""kefu's Rasa components: Chinese text normalisation, tokenisation, catalogue entities."""
