"""The pure routing core: state, event and `now` in; new state and commands out."""
