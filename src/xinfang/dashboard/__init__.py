"""The leadership dashboard's own figures (trend, categories, counts by place) when the analytics API is absent."""
